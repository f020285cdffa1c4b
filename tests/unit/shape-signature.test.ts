import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_SHAPE, MAX_SHAPE_LENGTH, shapeSignature, shapeSignatureSql } from '../../lib/cluster/shape-signature.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { literal } from '../../lib/engine/sql.ts';

describe('shape signature', () => {
  it('abstracts content and keeps structure', () => {
    expect(shapeSignature('12.0 USD')).toBe('9.9 A');
    expect(shapeSignature('1299.95 USD')).toBe('9.9 A');
    expect(shapeSignature('03/15/2026')).toBe('9/9/9');
    expect(shapeSignature('15.03.2026')).toBe('9.9.9');
    expect(shapeSignature('Mar 5, 2026')).toBe('Aa 9, 9');
    expect(shapeSignature('john.smith at example.org')).toBe('a.a.a');
    expect(shapeSignature('Call the customer later!')).toBe('Aa!');
    expect(shapeSignature('San Francisco CA')).toBe('Aa Aa A');
    expect(shapeSignature('(555) 123-4567')).toBe('(9) 9-9');
    expect(shapeSignature('Ünïcødé  tabs\there')).toBe('Aa');
    expect(shapeSignature('')).toBe(EMPTY_SHAPE);
    expect(shapeSignature(null)).toBe(EMPTY_SHAPE);
    expect([...shapeSignature('a,'.repeat(100))].length).toBe(MAX_SHAPE_LENGTH);
  });

  describe('in the engine', () => {
    let dir: string;
    let engine: Engine;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vm-shape-'));
      engine = await Engine.open({ memoryLimit: '128MB', threads: 1, spillDir: join(dir, 'spill') });
    });
    afterAll(() => {
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('gives the same shape as the TypeScript definition for text of established scripts', async () => {
      // Characters of long-established blocks (Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari,
      // kana, CJK, Hangul, emoji) and whitespace. Not any code point: letters assigned after the
      // engine's Unicode tables (RE2's) are letters to V8 but not to the engine — found here with
      // U+2EBF0 (CJK Extension I, Unicode 15.1). Clusters use the engine's shapes only.
      const blocks: Array<[number, number]> = [
        [0x09, 0x0a],
        [0x20, 0x7e],
        [0xa0, 0x24f],
        [0x370, 0x3ff],
        [0x400, 0x4ff],
        [0x590, 0x6ff],
        [0x900, 0x97f],
        [0x3040, 0x30ff],
        [0x4e00, 0x9fa5],
        [0xac00, 0xd7a3],
        [0x1f600, 0x1f64f],
      ];
      const char = fc.oneof(...blocks.map(([min, max]) => fc.integer({ min, max }))).map((c) => String.fromCodePoint(c));
      const text = fc.oneof(
        fc.string({ unit: fc.constantFrom(...Array.from('aZ9 .,/-@$()\t\nÉéß中😀_+')), maxLength: 40 }),
        fc.string({ unit: char, maxLength: 40 }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 30 }), async (values) => {
          const sql = `SELECT ${shapeSignatureSql('v')} AS shape FROM (SELECT unnest([${values.map(literal).join(', ')}]) AS v, generate_subscripts([${values.map(literal).join(', ')}], 1) AS i) ORDER BY i`;
          const rows = await engine.rows<{ shape: string }>(sql);
          expect(rows.map((r) => r.shape)).toEqual(values.map((v) => shapeSignature(v)));
        }),
        { numRuns: 60 },
      );
    });
  });
});
