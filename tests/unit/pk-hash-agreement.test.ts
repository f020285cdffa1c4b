import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOf } from '../../lib/audit/erase-records.ts';
import { ContractSchema, type Contract } from '../../lib/contract/contract.ts';
import { keyText, pkHashOf, pkHashSql, recordKey } from '../../lib/contract/pk-hash.ts';
import { Engine } from '../../lib/engine/duckdb.ts';

/**
 * The primary-key hash has one definition (lib/contract/pk-hash.ts) in two forms: SQL for the
 * ingest step, TypeScript for erasure. Both must give the same hash for any value: here the SQL
 * runs in a real DuckDB over values loaded through the appender (as text, NULLs included).
 */
let dir: string;
let engine: Engine;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vm-pk-hash-'));
  engine = await Engine.open({ memoryLimit: '256MB', threads: 1, spillDir: join(dir, 'spill') });
});
afterAll(() => {
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Characters the two forms are most likely to encode differently. */
const TRICKY = [
  '',
  '"',
  "'",
  '\\',
  '\\u0041',
  '/',
  '\u0000',
  '\u0007',
  '\u000b',
  '\u001f',
  '\u007f',
  '\u2028',
  '\ufeff',
  'é',
  '中文',
  '😀',
  'null',
  '[""]',
  ',',
  ' ',
];
const text = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom(...TRICKY) }),
  fc.string({ unit: 'grapheme-composite' }),
  fc.constantFrom(...TRICKY),
);
const component = fc.option(text, { nil: null, freq: 5 });

/** A contract of `columns` string columns, the first `keyed` of them its primary key; names need quoting in SQL. */
function contractOf(columns: number, keyed: number): Contract {
  return ContractSchema.parse({
    stream: 'pk',
    version: 1,
    columns: Array.from({ length: columns }, (_, i) => ({ name: i % 2 ? `col ${i}` : `c${i}`, type: 'string', primary_key: i < keyed })),
  });
}

/** The hash the SQL form gives for each row of values (one row per entry, in order). */
async function sqlHashes(contract: Contract, rows: (string | null)[][]): Promise<string[]> {
  await engine.loadTextTable(
    'keys',
    contract.columns.map((c) => c.name),
    rows,
  );
  const out = await engine.rows<{ h: string }>(`SELECT ${pkHashSql(contract)} AS h FROM keys ORDER BY "$k"`);
  return out.map((r) => r.h);
}

/** The hash the TypeScript form gives for a row of values (the key's columns picked by name). */
function tsHash(contract: Contract, row: (string | null)[]): string {
  const key = recordKey(contract);
  return pkHashOf(
    contract,
    key.columns.map((c) => row[contract.columns.indexOf(c)]!),
  );
}

const shapes = fc.oneof(
  fc.record({ columns: fc.integer({ min: 1, max: 4 }), keyed: fc.constant(1) }),
  fc.integer({ min: 2, max: 4 }).map((n) => ({ columns: n + 1, keyed: n })),
  fc.record({ columns: fc.integer({ min: 1, max: 4 }), keyed: fc.constant(0) }),
);
const batches = shapes.chain(({ columns, keyed }) =>
  fc.record({
    columns: fc.constant(columns),
    keyed: fc.constant(keyed),
    rows: fc.array(fc.array(component, { minLength: columns, maxLength: columns }), { minLength: 1, maxLength: 20 }),
  }),
);

describe('the primary-key hash: SQL and TypeScript agree', () => {
  it('for single, composite and no-key contracts on random text (unicode, quotes, control characters, empty, NULL)', async () => {
    await fc.assert(
      fc.asyncProperty(batches, async ({ columns, keyed, rows }) => {
        const contract = contractOf(columns, keyed);
        expect(await sqlHashes(contract, rows)).toEqual(rows.map((row) => tsHash(contract, row)));
      }),
      { numRuns: 400 },
    );
  });

  it('a NULL key component: the empty string for a one-column key, JSON null (not "") in an array', async () => {
    const single = contractOf(2, 1);
    const [nullHash, emptyHash] = await sqlHashes(single, [
      [null, 'x'],
      ['', 'x'],
    ]);
    expect(nullHash).toBe(emptyHash);
    expect(pkHashOf(single, [null])).toBe(nullHash);
    const composite = contractOf(3, 2);
    const [a, b] = await sqlHashes(composite, [
      ['k', null, 'x'],
      ['k', '', 'x'],
    ]);
    expect(a).not.toBe(b);
    expect([pkHashOf(composite, ['k', null]), pkHashOf(composite, ['k', ''])]).toEqual([a, b]);
  });

  it('keeps the hashes already stored: the key text is the value, or the JSON array DuckDB writes', () => {
    const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
    expect(pkHashOf(contractOf(2, 1), ['42'])).toBe(sha('42'));
    expect(keyText(recordKey(contractOf(3, 2)), ['a"b', null])).toBe('["a\\"b",null]');
    expect(keyText(recordKey(contractOf(2, 0)), ['\u000b\n', 'é'])).toBe('["\\u000B\\n","é"]');
  });

  it('erasure names a record by the hash the ingest step stored, and refuses a wrong number of values', async () => {
    const composite = contractOf(3, 2);
    const [stored] = await sqlHashes(composite, [['Zoë "Z"', '\u001f', 'x']]);
    expect(recordOf(composite, ['Zoë "Z"', '\u001f'])).toBe(stored);
    expect(() => recordOf(composite, ['only one'])).toThrow(/2 column/);
    expect(() => recordOf(contractOf(2, 0), ['a', 'b'])).toThrow(/no primary key/);
  });
});
