import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseContract } from '../../lib/contract/registry.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { classifyRows, writeOutputs } from '../../lib/ingest/bouncer.ts';
import { loadSourceTable, openSource } from '../../lib/ingest/load-source.ts';
import { RULE_ROWS, RULES_CONTRACT, rulesCsv } from '../support/rules-contract.ts';

/** The bouncer on the real engine (DuckDB) with local files; the stack tests cover the same path through S3. */
describe('bouncer', () => {
  let dir: string;
  let engine: Engine;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vm-bouncer-'));
    engine = await Engine.open({ memoryLimit: '256MB', threads: 1, spillDir: join(dir, 'spill') });
  });
  afterEach(() => {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function load(contract: typeof RULES_CONTRACT, text: string, name = 'in.csv') {
    const path = join(dir, name);
    writeFileSync(path, text);
    const reader = await openSource(engine, { path, format: contract.format, gzip: false });
    return loadSourceTable(engine, reader, contract);
  }

  it('gives every row exactly the reasons of the rules it breaks, one rule type at a time', async () => {
    expect(await load(RULES_CONTRACT, rulesCsv())).toBe(RULE_ROWS.length);
    const result = await classifyRows(engine, RULES_CONTRACT);
    const rows = await engine.rows<{ row_id: string; reasons: string[]; disposition: string }>(
      'SELECT row_id, reasons, disposition FROM verdicts ORDER BY row_id',
    );
    const got = rows.map((r) => [...r.reasons].sort());
    expect(got).toEqual(RULE_ROWS.map(([, reasons]) => [...reasons].sort()));
    const suspects = RULE_ROWS.filter(([, r]) => r.length > 0).length;
    expect(result.counts).toEqual({
      source: RULE_ROWS.length,
      clean: RULE_ROWS.length - suspects,
      suspect: suspects,
      quarantined: 0,
      duplicates_collapsed: 0,
    });
    expect(result.reasons['email:unique']).toBe(2);
  });

  it('collapses exact duplicates and quarantines conflicting rows of one primary key', async () => {
    const contract = parseContract({
      stream: 'dups',
      version: 1,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'v', type: 'string' },
      ],
    });
    await load(contract, 'id,v\n1,a\n2,b\n1,a\n3,c\n3,d\n1,a\n4,\n');
    const result = await classifyRows(engine, contract);
    expect(result.counts).toEqual({ source: 7, clean: 3, suspect: 0, quarantined: 2, duplicates_collapsed: 2 });
    const rows = await engine.rows<{ row_id: string; disposition: string; duplicate_of: string | null }>(
      'SELECT row_id, disposition, duplicate_of FROM verdicts ORDER BY row_id',
    );
    expect(rows.map((r) => [Number(r.row_id), r.disposition, r.duplicate_of === null ? null : Number(r.duplicate_of)])).toEqual([
      [1, 'clean', null],
      [2, 'clean', null],
      [3, 'collapsed', 1],
      [4, 'quarantined', null],
      [5, 'quarantined', null],
      [6, 'collapsed', 1],
      [7, 'clean', null],
    ]);
  });

  it('keeps every original value, byte for byte, in the suspect output', async () => {
    const contract = parseContract({
      stream: 'raw',
      version: 1,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'when', type: 'date' },
      ],
    });
    const odd = ['  2024-01-01', '"quoted, with comma"', 'tab\there', 'ünïcødé 🚀', '""'];
    await load(contract, `id,when\n${odd.map((v, i) => `${i + 1},"${v.replace(/"/g, '""')}"`).join('\n')}\n`);
    const { counts } = await classifyRows(engine, contract);
    const out = join(dir, 'suspect.parquet');
    await writeOutputs(engine, contract, counts, { clean: join(dir, 'c.parquet'), suspect: out, quarantine: join(dir, 'q.parquet') });
    const back = await engine.rows<{ when: string }>(`SELECT "when" FROM read_parquet('${out}') ORDER BY row_id`);
    expect(back.map((r) => r.when)).toEqual(odd);
  });

  it('writes clean rows typed, with row ids (no primary-key hash: clean rows are never changed)', async () => {
    await load(RULES_CONTRACT, rulesCsv());
    const { counts } = await classifyRows(engine, RULES_CONTRACT);
    const out = join(dir, 'clean.parquet');
    await writeOutputs(engine, RULES_CONTRACT, counts, { clean: out, suspect: join(dir, 's.parquet'), quarantine: join(dir, 'q.parquet') });
    const types = await engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet('${out}')`);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({
      row_id: 'BIGINT',
      id: 'BIGINT',
      price: 'DECIMAL(18,2)',
      active: 'BOOLEAN',
      born: 'DATE',
      seen: 'TIMESTAMP WITH TIME ZONE',
      paid: 'DATE',
    });
    expect(types.map((t) => t.column_name)).not.toContain('pk_hash');
    expect(types.filter((t) => t.column_name.startsWith('$'))).toEqual([]);
    const [second] = await engine.rows<{ price: string | null; tier: string | null }>(
      `SELECT price::VARCHAR AS price, tier FROM read_parquet('${out}') WHERE id = 2`,
    );
    // Null tokens ("N/A") and empty fields are nulls, not values.
    expect(second).toMatchObject({ price: null, tier: null });
  });
});

describe('engine errors', () => {
  it("that are the input's fault get a reason code; others (out of memory) are not blamed on the file", async () => {
    const { rejectFromEngineError } = await import('../../lib/ingest/input-rejected.ts');
    expect(
      rejectFromEngineError(
        new Error('Invalid Input Error: CSV Error on Line: 3\nOriginal Line: 1,secret\nExpected Number of Columns: 2 Found: 3'),
      ),
    ).toMatchObject({
      reason: 'csv-ragged-row',
      detail: 'a row has a different number of fields than the header (line 3)',
    });
    expect(rejectFromEngineError(new Error('Out of Memory Error: could not allocate block of size 128.0 MiB'))).toBeUndefined();
    expect(rejectFromEngineError(new Error('IO Error: No space left on device'))).toBeUndefined();
  });
});
