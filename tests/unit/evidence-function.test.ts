import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Column, ContractSchema } from '../../lib/contract/contract.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import type { Candidate } from '../../lib/remediate/candidate.ts';
import { evidenceCandidate, lookupDigest, namedDigest } from '../../lib/remediate/evidence-function.ts';
import { gateFunction } from '../../lib/remediate/lambda-gate.ts';
import { type DistinctInput, measure, type PatternInputs } from '../../lib/remediate/measure.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';

/**
 * Evidence functions: "the group's dominant value" as a gated function whose lookup table is
 * named by its SHA-256, applied in the real sandbox and measured with the real engine.
 */
type Row = Record<string, string | null>;

const CONTRACT = ContractSchema.parse({
  stream: 'providers',
  version: 1,
  columns: [
    { name: 'provider_number', type: 'integer', primary_key: true },
    { name: 'zip', type: 'string' },
    { name: 'state', type: 'string' },
    { name: 'city', type: 'string', pattern: '[A-Z][a-z]+( [A-Z][a-z]+)*' },
  ],
  tests: [{ type: 'dependency', determinant: ['zip'], dependent: 'city' }],
});
const CITY = CONTRACT.columns.find((c) => c.name === 'city')!;
const TABLE = { '35233': 'Birmingham', '36301': 'Dothan', '35801': 'Huntsville' };

let engine: Engine;
let sandbox: Sandbox;
const deps = () => ({ engine, sandbox, contract: CONTRACT });
beforeAll(async () => {
  engine = await Engine.open({ memoryLimit: '512MB', threads: 2, spillDir: '/tmp/vaultmend-test-spill' });
  sandbox = new Sandbox();
});
afterAll(() => {
  sandbox.dispose();
  engine.close();
});

/** A cluster of `column` whose distinct inputs are `rows`, with `cells[i]` cells each (default one). */
function pattern(of: Column, rows: Row[], cells: number[] = []): PatternInputs {
  return {
    column: of,
    distinct: async (reads: string[]): Promise<DistinctInput[]> =>
      rows.map((r, i) => ({
        value: r[of.name] ?? null,
        cells: cells[i] ?? 1,
        ...(reads.length ? { row: Object.fromEntries(reads.map((n) => [n, r[n] ?? null])) } : {}),
      })),
  };
}

/** Applies `candidate` in the sandbox to `city` values with their rows; the outputs (fails on a stopped run or an error). */
async function applied(candidate: Candidate, rows: Row[]): Promise<unknown[]> {
  const result = await sandbox.apply(
    gateFunction(candidate.source).accepted ? candidate.source : 'x => { throw new Error("not gated"); }',
    rows.map((r) => r['city'] ?? null),
    rows.map((r) => ({ ...r })),
    candidate.lookup,
  );
  expect(result.stopped).toBe(false);
  if (result.stopped) return [];
  expect(result.errors).toEqual([]);
  return result.outputs;
}

describe('evidence candidates', () => {
  it('name their table by its SHA-256, whatever order its entries were inserted in', () => {
    const c = evidenceCandidate('zip->city', ['zip'], TABLE);
    expect(c).toMatchObject({ name: 'zip->city', reads: ['zip'], lookup: TABLE });
    expect(c.writes).toBeUndefined();
    expect(namedDigest(c.source)).toBe(lookupDigest(TABLE));
    expect(lookupDigest(TABLE)).toMatch(/^[0-9a-f]{64}$/);
    const reversed = Object.fromEntries(Object.entries(TABLE).reverse());
    expect(lookupDigest(reversed)).toBe(lookupDigest(TABLE));
    expect(lookupDigest({ ...TABLE, '36301': 'Dothan ' })).not.toBe(lookupDigest(TABLE));
    expect(lookupDigest({ ...TABLE, '99999': 'Dothan' })).not.toBe(lookupDigest(TABLE));
    expect(namedDigest('(x) => x')).toBeUndefined();
  });

  it('pass the lambda gate, with one determinant column or several', () => {
    for (const determinant of [['zip'], ['zip', 'state'], ['zip', 'state', 'provider_number']]) {
      const c = evidenceCandidate('e', determinant, { a: 'B' });
      expect(gateFunction(c.source)).toEqual({ accepted: true, source: c.source });
    }
    expect(gateFunction(evidenceCandidate('e', ['zip'], {}).source).accepted).toBe(true);
  });

  it("map a key to its table's value and leave unknown keys and missing determinants unchanged", async () => {
    const c = evidenceCandidate('zip->city', ['zip'], TABLE);
    const rows: Row[] = [
      { zip: '35233', city: 'Birmingahm' },
      { zip: '36301', city: null },
      { zip: '35801', city: 'Huntsville' },
      { zip: '99999', city: 'Nowhere' },
      { zip: null, city: 'Dothan' },
      { zip: '', city: 'Empty' },
      { zip: '35233 ', city: 'Spaced' },
    ];
    expect(await applied(c, rows)).toEqual(['Birmingham', 'Dothan', 'Huntsville', 'Nowhere', 'Dothan', 'Empty', 'Spaced']);
  });

  it('leave the value unchanged for keys that name prototype properties: the table has no prototype', async () => {
    const c = evidenceCandidate('zip->city', ['zip'], TABLE);
    const keys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
    const rows = keys.map((zip, i) => ({ zip, city: `Town${i}` }));
    expect(await applied(c, rows)).toEqual(rows.map((r) => r.city));
  });

  it('map a key that names a prototype property when the table itself holds it', async () => {
    const table = JSON.parse('{"__proto__": "Protoville", "constructor": "Builder", "35233": "Birmingham"}') as Record<string, string>;
    expect(Object.keys(table).sort()).toEqual(['35233', '__proto__', 'constructor']);
    const c = evidenceCandidate('zip->city', ['zip'], table);
    const rows = [
      { zip: '__proto__', city: 'x' },
      { zip: 'constructor', city: 'y' },
      { zip: 'toString', city: 'z' },
    ];
    expect(await applied(c, rows)).toEqual(['Protoville', 'Builder', 'z']);
  });

  it('join a multi-column key with \\u001f, and leave a row with any missing part unchanged', async () => {
    const table = { '10001\u001fAA': 'Alpha', '10001\u001fBB': 'Beta', '10001AA': 'Glued', '10001 AA': 'Spaced' };
    const c = evidenceCandidate('zip+state->city', ['zip', 'state'], table);
    const rows: Row[] = [
      { zip: '10001', state: 'AA', city: 'x' },
      { zip: '10001', state: 'BB', city: 'x' },
      { zip: '10001', state: 'CC', city: 'x' },
      { zip: '10001', state: null, city: 'x' },
      { zip: null, state: 'AA', city: 'x' },
      { zip: '10001\u001fAA', state: 'AA', city: 'x' },
    ];
    expect(await applied(c, rows)).toEqual(['Alpha', 'Beta', 'x', 'x', 'x', 'x']);
  });

  it("cannot change the table it is given: the gate refuses writing to it, and the sandbox's copy is frozen without a prototype", async () => {
    const digest = lookupDigest(TABLE);
    expect(gateFunction(`(x, row, lookup) => { const evidence = "sha256:${digest}"; lookup = {}; return x; }`)).toMatchObject({
      accepted: false,
      reason: 'forbidden-syntax',
    });
    // Not a gated function (it calls Object's own methods): the sandbox alone is under test here.
    const probe = await sandbox.apply(
      '(x, row, lookup) => [Object.isFrozen(lookup), Object.getPrototypeOf(lookup) === null, lookup[x], Object.keys(lookup).length].join(",")',
      ['35233', '__proto__'],
      undefined,
      TABLE,
    );
    expect(probe).toEqual({ stopped: false, outputs: ['true,true,Birmingham,3', 'true,true,,3'], errors: [] });
  });
});

describe('measuring an evidence candidate', () => {
  const rows: Row[] = [
    { provider_number: '1', zip: '35233', city: 'Birmingahm' },
    { provider_number: '2', zip: '36301', city: 'Dothna' },
    { provider_number: '3', zip: '99999', city: 'Nowhre' },
  ];
  const cells = [3, 2, 1];

  it('passes the cells its table repairs, and calls the others unchanged', async () => {
    const m = await measure(deps(), pattern(CITY, rows, cells), evidenceCandidate('zip->city', ['zip'], TABLE));
    expect(m.gate).toEqual({ accepted: true });
    expect(m.outcomes.map((o) => [o.writes, o.verdict])).toEqual([
      [['Birmingham'], 'ok'],
      [['Dothan'], 'ok'],
      [['Nowhre'], 'unchanged'],
    ]);
    expect(m).toMatchObject({ cells: 6, passed: 5, failures: { unchanged: 1 } });
    expect(m.pass_rate).toBeCloseTo(5 / 6, 10);
  });

  it('refuses a table that is not the one its source names', async () => {
    const c = evidenceCandidate('zip->city', ['zip'], TABLE);
    for (const lookup of [{ ...TABLE, '99999': 'Birmingham' }, { ...TABLE, '35233': 'Bessemer' }, { '35233': 'Birmingham' }]) {
      const m = await measure(deps(), pattern(CITY, rows, cells), { ...c, lookup });
      expect(m.gate).toMatchObject({ accepted: false, reason: 'lookup-mismatch' });
      expect(m).toMatchObject({ passed: 0, pass_rate: 0, outcomes: [], failures: { 'refused:lookup-mismatch': 6 } });
    }
    // A source that names no digest at all is refused the same way.
    const unnamed = await measure(deps(), pattern(CITY, rows, cells), { ...c, source: '(x, row, lookup) => x' });
    expect(unnamed.gate).toMatchObject({ accepted: false, reason: 'lookup-mismatch' });
  });

  it('refuses an output that is not among the table’s values, with the right digest named', async () => {
    const digest = lookupDigest(TABLE);
    const constant: Candidate = {
      name: 'zip->city',
      reads: ['zip'],
      lookup: TABLE,
      source: `(x, row, lookup) => { const evidence = "sha256:${digest}"; return "Atlantis"; }`,
    };
    expect(gateFunction(constant.source).accepted).toBe(true);
    const m = await measure(deps(), pattern(CITY, rows, cells), constant);
    expect(m.gate).toEqual({ accepted: true });
    expect(m.outcomes.map((o) => o.verdict)).toEqual(['guard:not-in-evidence', 'guard:not-in-evidence', 'guard:not-in-evidence']);
    expect(m).toMatchObject({ passed: 0, failures: { 'guard:not-in-evidence': 6 } });

    const erasing = await measure(deps(), pattern(CITY, rows, cells), {
      ...constant,
      source: `(x, row, lookup) => { const evidence = "sha256:${digest}"; return null; }`,
    });
    expect(erasing.outcomes.map((o) => o.verdict)).toEqual(['guard:not-in-evidence', 'guard:not-in-evidence', 'guard:not-in-evidence']);
  });

  it("still checks a table value against the column's rules", async () => {
    const table = { '35233': 'birmingham', '36301': 'Dothan' };
    const m = await measure(deps(), pattern(CITY, rows, cells), evidenceCandidate('zip->city', ['zip'], table));
    expect(m.outcomes.map((o) => o.verdict)).toEqual(['rule:city:pattern', 'ok', 'unchanged']);
  });

  it('refuses an evidence candidate that writes other columns than its own', async () => {
    const c = { ...evidenceCandidate('zip->city', ['zip'], TABLE), writes: ['city', 'state'] };
    const m = await measure(deps(), pattern(CITY, rows, cells), c);
    expect(m.gate).toMatchObject({ accepted: false, reason: 'lookup-writes' });
  });

  it('never reports a table value as not in evidence: every output is the input or a table value', { timeout: 60_000 }, async () => {
    const key = fc.constantFrom('10001', '10002', '10003', '10004', '__proto__', 'constructor');
    const city = fc.constantFrom('Ames', 'Boone', 'Cedar', 'Dane', 'ames', null);
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(key, fc.constantFrom('Ames', 'Boone', 'Cedar', 'Dane'), { maxKeys: 6 }),
        fc.array(fc.record({ zip: fc.option(key, { nil: null }), city }), { minLength: 1, maxLength: 12 }),
        async (table, input) => {
          const m = await measure(deps(), pattern(CITY, input), evidenceCandidate('zip->city', ['zip'], table));
          expect(m.gate).toEqual({ accepted: true });
          expect(m.outcomes).toHaveLength(input.length);
          m.outcomes.forEach((o, i) => {
            const r = input[i]!;
            const expected = r.zip !== null && Object.hasOwn(table, r.zip) ? table[r.zip]! : r.city;
            expect(o.verdict).not.toBe('guard:not-in-evidence');
            expect(o.writes).toEqual([expected]);
            expect(o.verdict).toBe(expected === r.city ? 'unchanged' : 'ok');
          });
        },
      ),
      { numRuns: 30 },
    );
  });
});
