import { describe, expect, it } from 'vitest';
import { type ChangeKind, compatibility, EVOLUTION_POLICIES, type EvolutionPolicy } from '../../lib/contract/compatibility.ts';
import { ContractSchema } from '../../lib/contract/contract.ts';

type ColumnInput = Record<string, unknown>;

/** The registered contract's columns: one of each rule the policies look at. */
const BASE: ColumnInput[] = [
  { name: 'id', type: 'integer', primary_key: true },
  { name: 'amount', type: 'decimal', scale: 2 },
  { name: 'price', type: 'decimal' },
  { name: 'code', type: 'string', max_length: 10 },
  { name: 'tier', type: 'enum', allowed: ['gold', 'silver'] },
  { name: 'qty', type: 'integer', min: 0, max: 100 },
  { name: 'email', type: 'email', pii: true },
  { name: 'ref', type: 'string', pattern: '[A-Z]{3}' },
  { name: 'born', type: 'date' },
  { name: 'note', type: 'string', nullable: false },
];

const contract = (columns: ColumnInput[], version = 1) => ContractSchema.parse({ stream: 'orders', version, columns });

/** BASE with one column's fields patched (`undefined` drops a field). */
const edit =
  (name: string, patch: ColumnInput) =>
  (columns: ColumnInput[]): ColumnInput[] =>
    columns.map((c) => (c.name === name ? { ...c, ...patch } : c));
const remove =
  (...names: string[]) =>
  (columns: ColumnInput[]): ColumnInput[] =>
    columns.filter((c) => !names.includes(String(c.name)));
const append =
  (...added: ColumnInput[]) =>
  (columns: ColumnInput[]): ColumnInput[] => [...columns, ...added];
const insertAt =
  (index: number, column: ColumnInput) =>
  (columns: ColumnInput[]): ColumnInput[] => [...columns.slice(0, index), column, ...columns.slice(index)];
const pipe =
  (...steps: Array<(columns: ColumnInput[]) => ColumnInput[]>) =>
  (columns: ColumnInput[]): ColumnInput[] =>
    steps.reduce((acc, step) => step(acc), columns);

type Expected = Record<EvolutionPolicy, { accepted: boolean; rule: string }>;

/** Unchanged: every policy accepts with rule 'no change'. */
const unchanged: Expected = {
  strict: { accepted: true, rule: 'no change' },
  additive: { accepted: true, rule: 'no change' },
  none: { accepted: true, rule: 'no change' },
};
/** Halts under every policy, `none` included. */
const always = (label: string): Expected => ({
  strict: { accepted: false, rule: `every policy: ${label}` },
  additive: { accepted: false, rule: `every policy: ${label}` },
  none: { accepted: false, rule: `every policy: ${label}` },
});
/** An additive change: strict halts, additive and none accept. */
const additive = (label: string): Expected => ({
  strict: { accepted: false, rule: `strict: ${label}` },
  additive: { accepted: true, rule: `additive: ${label}` },
  none: { accepted: true, rule: `none: ${label}` },
});
/** A loosening that is not additive: only none accepts. */
const noneOnly = (label: string): Expected => ({
  strict: { accepted: false, rule: `strict: ${label}` },
  additive: { accepted: false, rule: `additive: ${label}` },
  none: { accepted: true, rule: `none: ${label}` },
});

interface Case {
  change: string;
  /** The registered columns (BASE when absent). */
  before?: (columns: ColumnInput[]) => ColumnInput[];
  after: (columns: ColumnInput[]) => ColumnInput[];
  kinds: ChangeKind[];
  expected: Expected;
  renamed?: { from: string; to: string };
}

const CASES: Case[] = [
  { change: 'identical contracts', after: (c) => c, kinds: [], expected: unchanged },
  { change: 'columns reordered', after: (c) => [...c].reverse(), kinds: [], expected: unchanged },
  { change: 'a name in another case', after: edit('amount', { name: 'AMOUNT' }), kinds: [], expected: unchanged },
  {
    change: 'a description and rounding (not schema)',
    after: edit('amount', { description: 'order total', rounding: 'half-even' }),
    kinds: [],
    expected: unchanged,
  },

  // Added columns.
  {
    change: 'a nullable column at the end',
    after: append({ name: 'channel', type: 'string' }),
    kinds: ['added'],
    expected: additive('nullable column added'),
  },
  {
    change: 'a nullable column in the middle',
    after: insertAt(2, { name: 'channel', type: 'string', max_length: 20 }),
    kinds: ['added'],
    expected: additive('nullable column added'),
  },
  {
    change: 'two nullable columns',
    after: append({ name: 'channel', type: 'string' }, { name: 'score', type: 'decimal', scale: 1, nullable: true }),
    kinds: ['added', 'added'],
    expected: additive('nullable column added'),
  },
  {
    change: 'a NOT NULL column',
    after: append({ name: 'channel', type: 'string', nullable: false }),
    kinds: ['added'],
    expected: always('not-null column added'),
  },
  {
    change: 'a new primary-key column (never null)',
    after: append({ name: 'line_no', type: 'integer', primary_key: true }),
    kinds: ['added'],
    expected: always('not-null column added'),
  },

  // Removals and renames.
  { change: 'a removed column', after: remove('note'), kinds: ['removed'], expected: always('column removed') },
  {
    change: 'a rename (remove + add, same type)',
    after: edit('code', { name: 'product_code' }),
    kinds: ['removed', 'added'],
    expected: always('column removed'),
    renamed: { from: 'code', to: 'product_code' },
  },
  {
    change: 'a rename of a NOT NULL column',
    after: edit('note', { name: 'remark' }),
    kinds: ['removed', 'added'],
    expected: always('column removed'),
    renamed: { from: 'note', to: 'remark' },
  },
  {
    change: 'a removal and an addition of another type (no rename hint)',
    after: pipe(remove('code'), append({ name: 'channel', type: 'integer' })),
    kinds: ['removed', 'added'],
    expected: always('column removed'),
  },
  {
    change: 'two removals and one addition (no rename hint)',
    after: pipe(remove('code', 'ref'), append({ name: 'channel', type: 'string' })),
    kinds: ['removed', 'removed', 'added'],
    expected: always('column removed'),
  },

  // Types.
  { change: 'integer -> decimal', after: edit('qty', { type: 'decimal' }), kinds: ['widened'], expected: additive('column widened') },
  {
    change: 'integer -> decimal with a scale',
    after: edit('qty', { type: 'decimal', scale: 3 }),
    kinds: ['widened'],
    expected: additive('column widened'),
  },
  {
    change: 'decimal -> integer',
    after: edit('amount', { type: 'integer', scale: undefined }),
    kinds: ['narrowed'],
    expected: always('column narrowed'),
  },
  { change: 'string -> email', after: edit('code', { type: 'email' }), kinds: ['retyped'], expected: always('column retyped') },
  { change: 'email -> string', after: edit('email', { type: 'string' }), kinds: ['retyped'], expected: always('column retyped') },
  { change: 'integer -> string', after: edit('qty', { type: 'string' }), kinds: ['retyped'], expected: always('column retyped') },
  { change: 'date -> timestamp', after: edit('born', { type: 'timestamp' }), kinds: ['retyped'], expected: always('column retyped') },

  // Scale.
  { change: 'scale 2 -> 4', after: edit('amount', { scale: 4 }), kinds: ['widened'], expected: additive('column widened') },
  { change: 'scale 2 -> none', after: edit('amount', { scale: undefined }), kinds: ['widened'], expected: additive('column widened') },
  { change: 'scale 2 -> 1', after: edit('amount', { scale: 1 }), kinds: ['narrowed'], expected: always('column narrowed') },
  { change: 'scale none -> 2', after: edit('price', { scale: 2 }), kinds: ['narrowed'], expected: always('column narrowed') },

  // max_length.
  { change: 'max_length 10 -> 20', after: edit('code', { max_length: 20 }), kinds: ['widened'], expected: additive('column widened') },
  {
    change: 'max_length 10 -> none',
    after: edit('code', { max_length: undefined }),
    kinds: ['widened'],
    expected: additive('column widened'),
  },
  { change: 'max_length 10 -> 5', after: edit('code', { max_length: 5 }), kinds: ['narrowed'], expected: always('column narrowed') },
  { change: 'max_length none -> 5', after: edit('note', { max_length: 5 }), kinds: ['narrowed'], expected: always('column narrowed') },

  // Allowed values.
  {
    change: 'an enum gaining a value',
    after: edit('tier', { allowed: ['gold', 'silver', 'bronze'] }),
    kinds: ['widened'],
    expected: additive('column widened'),
  },
  {
    change: 'an enum with its values reordered',
    after: edit('tier', { allowed: ['silver', 'gold'] }),
    kinds: [],
    expected: unchanged,
  },
  {
    change: 'an enum losing a value',
    after: edit('tier', { allowed: ['gold'] }),
    kinds: ['narrowed'],
    expected: always('column narrowed'),
  },
  {
    change: 'an enum trading a value for another',
    after: edit('tier', { allowed: ['gold', 'bronze'] }),
    kinds: ['narrowed'],
    expected: always('column narrowed'),
  },
  {
    change: 'allowed values on a free text column',
    after: edit('note', { allowed: ['a', 'b'] }),
    kinds: ['narrowed'],
    expected: always('column narrowed'),
  },

  // Nullability.
  {
    change: 'nullable -> not null',
    after: edit('code', { nullable: false }),
    kinds: ['narrowed'],
    expected: always('column narrowed'),
  },
  { change: 'not null -> nullable', after: edit('note', { nullable: true }), kinds: ['widened'], expected: noneOnly('rule loosened') },

  // pattern, min, max.
  { change: 'a new pattern', after: edit('code', { pattern: '[a-z]+' }), kinds: ['narrowed'], expected: always('column narrowed') },
  {
    change: 'a changed pattern',
    after: edit('ref', { pattern: '[A-Z]{3,4}' }),
    kinds: ['narrowed'],
    expected: always('column narrowed'),
  },
  { change: 'a dropped pattern', after: edit('ref', { pattern: undefined }), kinds: ['widened'], expected: noneOnly('rule loosened') },
  { change: 'a new min', after: edit('amount', { min: 0 }), kinds: ['narrowed'], expected: always('column narrowed') },
  { change: 'a raised min', after: edit('qty', { min: 1 }), kinds: ['narrowed'], expected: always('column narrowed') },
  { change: 'a lowered max', after: edit('qty', { max: 50 }), kinds: ['narrowed'], expected: always('column narrowed') },
  { change: 'a lowered min', after: edit('qty', { min: -10 }), kinds: ['widened'], expected: noneOnly('rule loosened') },
  { change: 'a dropped max', after: edit('qty', { max: undefined }), kinds: ['widened'], expected: noneOnly('rule loosened') },
  { change: 'the same min written as text', after: edit('qty', { min: '0' }), kinds: [], expected: unchanged },

  // Identity, privacy, parsing.
  {
    change: 'a primary key dropped',
    after: edit('id', { primary_key: false, nullable: false }),
    kinds: ['rule-changed'],
    expected: always('primary key changed'),
  },
  {
    change: 'a column made primary key',
    before: remove('id'),
    after: pipe(remove('id'), edit('note', { primary_key: true })),
    kinds: ['rule-changed'],
    expected: always('primary key changed'),
  },
  { change: 'pii set', after: edit('code', { pii: true }), kinds: ['rule-changed'], expected: always('pii changed') },
  { change: 'pii cleared', after: edit('email', { pii: false }), kinds: ['rule-changed'], expected: always('pii changed') },
  { change: 'a date format set', after: edit('born', { format: '%d/%m/%Y' }), kinds: ['rule-changed'], expected: always('format changed') },

  // Several changes at once.
  {
    change: 'a nullable column and a widening',
    after: pipe(edit('amount', { scale: 4 }), append({ name: 'channel', type: 'string' })),
    kinds: ['widened', 'added'],
    expected: {
      strict: { accepted: false, rule: 'strict: column widened' },
      additive: { accepted: true, rule: 'additive: column widened, nullable column added' },
      none: { accepted: true, rule: 'none: column widened, nullable column added' },
    },
  },
  {
    change: 'a nullable column and a removal',
    after: pipe(remove('ref'), append({ name: 'channel', type: 'integer' })),
    kinds: ['removed', 'added'],
    expected: always('column removed'),
  },
  {
    change: 'a widening and a loosening',
    after: pipe(edit('code', { max_length: 20 }), edit('ref', { pattern: undefined })),
    kinds: ['widened', 'widened'],
    expected: {
      strict: { accepted: false, rule: 'strict: column widened' },
      additive: { accepted: false, rule: 'additive: rule loosened' },
      none: { accepted: true, rule: 'none: column widened, rule loosened' },
    },
  },
  {
    change: 'a widening and a narrowing',
    after: pipe(edit('code', { max_length: 20 }), edit('amount', { scale: 1 })),
    kinds: ['narrowed', 'widened'],
    expected: always('column narrowed'),
  },
];

const ROWS = CASES.flatMap((c) =>
  EVOLUTION_POLICIES.map((policy) => ({ ...c, policy, accepted: c.expected[policy].accepted, rule: c.expected[policy].rule })),
);

describe('schema evolution by policy', () => {
  it('covers every policy for every change', () => {
    expect(ROWS.length).toBe(CASES.length * EVOLUTION_POLICIES.length);
    expect(ROWS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(ROWS)('$change under $policy: accepted $accepted ($rule)', ({ before, after, policy, accepted, rule, kinds, renamed }) => {
    const registered = (before ?? ((c) => c))(BASE);
    const verdict = compatibility(contract(registered), contract(after(BASE), 2), policy);
    expect(verdict.policy).toBe(policy);
    expect(verdict.accepted).toBe(accepted);
    expect(verdict.rule).toBe(rule);
    expect(verdict.changes.map((c) => c.kind)).toEqual(kinds);
    expect(verdict.renamed).toEqual(renamed);
  });

  it('names each change with its column and what changed', () => {
    const next = pipe(
      edit('amount', { scale: 4 }),
      edit('tier', { allowed: ['gold'] }),
      edit('qty', { min: 5 }),
      append({ name: 'channel', type: 'string' }),
    )(BASE);
    expect(compatibility(contract(BASE), contract(next, 2), 'none').changes).toEqual([
      { kind: 'widened', column: 'amount', detail: 'scale 2 -> 4' },
      { kind: 'narrowed', column: 'tier', detail: 'allowed values lost: silver' },
      { kind: 'narrowed', column: 'qty', detail: 'min 0 -> 5' },
      { kind: 'added', column: 'channel', detail: 'nullable string' },
    ]);
  });

  it('reports a rename as a removal with a hint, never as accepted', () => {
    const verdict = compatibility(contract(BASE), contract(edit('code', { name: 'sku' })(BASE), 2), 'none');
    expect(verdict).toMatchObject({ accepted: false, rule: 'every policy: column removed', renamed: { from: 'code', to: 'sku' } });
    expect(verdict.changes[0]).toEqual({ kind: 'removed', column: 'code', detail: 'absent from the next contract (renamed to sku?)' });
  });

  it('leaves out the renamed key when there is no hint', () => {
    expect('renamed' in compatibility(contract(BASE), contract(BASE, 2), 'strict')).toBe(false);
  });
});
