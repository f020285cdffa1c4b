import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseContract } from '../../lib/contract/registry.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { inferColumnTypes, MAX_SUGGESTED_COLUMNS } from '../../lib/ingest/infer-column-types.ts';
import { openSource } from '../../lib/ingest/load-source.ts';
import { ENGINE } from '../support/local-batch.ts';

/** The type a new text column is proposed as: the narrowest every present value passes, never one that would change a digit. */
const dir = mkdtempSync(join(tmpdir(), 'infer-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const contract = parseContract({ stream: 'evo', version: 1, columns: [{ name: 'id', type: 'integer', primary_key: true }] });

async function infer(csv: string, names: string[]) {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(path, csv);
  const engine = await Engine.open({ ...ENGINE, spillDir: join(dir, 'spill') });
  try {
    const reader = await openSource(engine, { path, format: contract.format, gzip: false });
    return Object.fromEntries(await inferColumnTypes(engine, reader, contract, names));
  } finally {
    engine.close();
  }
}

describe('inferColumnTypes', () => {
  it('proposes the narrowest type every value has, or string', async () => {
    const csv = [
      'id,qty,price,mixed,zip,day,at,flag,empty,word',
      '1,3,1.5,1,02134,2026-01-01,2026-01-01T10:00:00Z,true,,a',
      '2,-4,-0.25,1.5,10001,2026-02-28,2026-01-02 11:30:00+02:00,false,,b',
      '3,,,,,,,,,',
    ].join('\n');
    expect(await infer(`${csv}\n`, ['qty', 'price', 'mixed', 'zip', 'day', 'at', 'flag', 'empty', 'word'])).toEqual({
      qty: 'integer',
      price: 'decimal',
      mixed: 'decimal',
      zip: 'string',
      day: 'date',
      // A timestamp would be normalised to UTC: never suggested.
      at: 'string',
      flag: 'boolean',
      empty: 'string',
      word: 'string',
    });
  });

  it('a value that would not print back as itself keeps the column a string', async () => {
    const csv = 'id,a,b,c,d,e,f,g\n1,007,1.,+5,2026-1-5,1.50,-0,TRUE\n2,8,2.5,6,2026-01-05,2.5,1,false\n';
    expect(await infer(csv, ['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toEqual({
      a: 'string',
      b: 'string',
      c: 'string',
      d: 'string',
      e: 'string',
      f: 'string',
      g: 'string',
    });
  });

  it('a file with more new columns than MAX_SUGGESTED_COLUMNS gets no suggestion (the scan stays small)', async () => {
    const names = Array.from({ length: MAX_SUGGESTED_COLUMNS + 1 }, (_, i) => `n${i}`);
    const csv = `id,${names.join(',')}\n1,${names.map(() => '7').join(',')}\n`;
    expect(new Set(Object.values(await infer(csv, names)))).toEqual(new Set(['string']));
    expect(Object.values(await infer(csv, names.slice(0, 2)))).toEqual(['integer', 'integer']);
  });

  it('null tokens count as no value', async () => {
    const csv = 'id,n\n1,N/A\n2,12\n3,null\n';
    const withTokens = parseContract({ ...contract, format: { type: 'csv', null_tokens: ['N/A', 'null'] } });
    const path = join(dir, 'tokens.csv');
    writeFileSync(path, csv);
    const engine = await Engine.open({ ...ENGINE, spillDir: join(dir, 'spill') });
    try {
      const reader = await openSource(engine, { path, format: withTokens.format, gzip: false });
      expect(Object.fromEntries(await inferColumnTypes(engine, reader, withTokens, ['n']))).toEqual({ n: 'integer' });
    } finally {
      engine.close();
    }
  });
});
