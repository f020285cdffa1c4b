import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { splitSource } from '../../lib/ingest/split-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'vm-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Splits `text` and returns the parts' texts and row counts. */
async function split(text: string, partBytes: number, format: 'csv' | 'jsonl' = 'csv', gzip = false) {
  const path = join(dir, `in-${n++}`);
  writeFileSync(path, gzip ? gzipSync(text) : text);
  const out = join(dir, `out-${n++}`);
  (await import('node:fs')).mkdirSync(out);
  const parts = await splitSource(path, gzip, format, partBytes, out);
  return parts.map((p) => ({ text: readFileSync(p.path, 'utf8'), rows: p.rows }));
}

describe('splitting a large file into parts', () => {
  it("cuts only between records, repeats the header, and counts each part's rows", async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${i + 1},"line ${i}\nstill the same field, ""quoted""",x`);
    const text = `id,note,z\r\n${rows.join('\r\n')}\r\n`;
    const parts = await split(text, 500);
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) expect(part.text.startsWith('id,note,z\r\n')).toBe(true);
    expect(parts.reduce((sum, p) => sum + p.rows, 0)).toBe(200);
    // Dropping each later part's header gives back the file, byte for byte.
    expect(parts.map((p, i) => (i === 0 ? p.text : p.text.slice('id,note,z\r\n'.length))).join('')).toBe(text);
  });

  it('keeps any CSV whole across any part size (property)', async () => {
    const field = fc.oneof(
      fc.stringMatching(/^[a-z0-9 ]{0,5}$/),
      fc.stringMatching(/^[a-z\n,"]{0,5}$/).map((s) => `"${s.replace(/"/g, '""')}"`),
    );
    const row = fc.array(field, { minLength: 2, maxLength: 2 }).map((f) => f.join(','));
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 200 }), async (rows, size) => {
        const body = rows.filter((r) => r !== ',').join('\n');
        const text = `a,b\n${body}\n`;
        const parts = await split(text, size);
        expect(parts.map((p, i) => (i === 0 ? p.text : p.text.slice(4))).join('')).toBe(text);
        for (const part of parts) expect(part.text.startsWith('a,b\n')).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('splits JSON Lines by line, through gzip', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ id: i, note: `say "hi" \\ ${i}` }));
    const parts = await split(`${lines.join('\n')}\n`, 300, 'jsonl', true);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.reduce((sum, p) => sum + p.rows, 0)).toBe(100);
    expect(parts.map((p) => p.text).join('')).toBe(`${lines.join('\n')}\n`);
  });
});
