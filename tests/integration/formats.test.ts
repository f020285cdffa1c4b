import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { streamState } from '../../lib/streams/stream-control.ts';
import { parquetBytes } from '../support/files.ts';
import { eventually, manifestOf, readParquet, readText, upload, vaultStore } from '../support/vault.ts';

const sha256 = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const columns = [
  { name: 'id', type: 'integer', primary_key: true },
  { name: 'label', type: 'string' },
  { name: 'amount', type: 'decimal', scale: 2 },
  { name: 'day', type: 'date' },
];

describe('formats', () => {
  beforeAll(async () => {
    const store = vaultStore();
    await registerContract(store, { stream: 'fmt-csv', version: 1, columns });
    await registerContract(store, { stream: 'fmt-jsonl', version: 1, format: { type: 'jsonl' }, columns });
    await registerContract(store, { stream: 'fmt-parquet', version: 1, format: { type: 'parquet' }, columns });
    await registerContract(store, { stream: 'fmt-parquet-retyped', version: 1, format: { type: 'parquet' }, columns });
  });

  it('CSV with a BOM, CRLF line ends, a semicolon delimiter and quoted fields', async () => {
    const csv = `\ufeffid;label;amount;day\r\n1;"a; b";1.50;2026-01-01\r\n2;"say ""hi""";2.5.0;2026-01-02\r\n3;${randomUUID()};3;2026-01-03\r\n`;
    await upload('raw/fmt-csv/semi.csv', csv);
    const manifest = await manifestOf(batchId('fmt-csv', sha256(csv)));
    expect(manifest.rows).toMatchObject({ source: 3, clean: 2, suspect: 1 });
    const clean = await readParquet<{ label: string }>(manifest.outputs.clean[0]!, 'SELECT label FROM t ORDER BY row_id');
    expect(clean.map((r) => r.label)).toEqual(['a; b', expect.any(String)]);
    const suspect = await readParquet<{ label: string; amount: string }>(manifest.outputs.suspect[0]!);
    expect(suspect[0]).toMatchObject({ label: 'say "hi"', amount: '2.5.0' });
  });

  it('gzip-compressed CSV', async () => {
    const gz = gzipSync(Buffer.from(`id,label,amount,day\n1,x,1.00,2026-01-01\n2,${randomUUID()},2.00,2026-01-02\n`));
    await upload('raw/fmt-csv/data.csv.gz', gz);
    const manifest = await manifestOf(batchId('fmt-csv', sha256(gz)));
    expect(manifest.source.gzip).toBe(true);
    expect(manifest.rows).toMatchObject({ source: 2, clean: 2 });
  });

  it('JSON Lines, values kept as their text', async () => {
    const lines = [
      { id: 1, label: 'plain', amount: 1.5, day: '2026-01-01' },
      { id: 2, label: randomUUID(), amount: '12.0 oz.', day: '2026-01-02' },
      { id: 3, label: null, amount: 3, day: '01/03/2026' },
    ];
    const jsonl = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
    await upload('raw/fmt-jsonl/events.jsonl', jsonl);
    const manifest = await manifestOf(batchId('fmt-jsonl', sha256(jsonl)));
    expect(manifest.rows).toMatchObject({ source: 3, clean: 1, suspect: 2 });
    expect(manifest.reasons).toEqual({ 'amount:type': 1, 'day:type': 1 });
    const suspect = await readParquet<{ amount: string; day: string }>(manifest.outputs.suspect[0]!);
    expect(suspect.map((r) => [r.amount, r.day])).toEqual([
      ['12.0 oz.', '2026-01-02'],
      ['3', '01/03/2026'],
    ]);
  });

  it('JSON Lines that are not objects, or not JSON', async () => {
    const notObjects = '{"id":1}\n[1,2]\n';
    await upload('raw/fmt-jsonl/arrays.jsonl', notObjects);
    expect((await manifestOf(batchId('fmt-jsonl', sha256(notObjects)))).rejected?.reason).toBe('jsonl-not-object');
    const broken = '{"id":1,"label":"a","amount":1,"day":"2026-01-01"}\n{"id":2,\n';
    await upload('raw/fmt-jsonl/broken.jsonl', broken);
    expect((await manifestOf(batchId('fmt-jsonl', sha256(broken)))).rejected?.reason).toBe('jsonl-invalid');
  });

  it("Parquet with the contract's types", async () => {
    const bytes = await parquetBytes(
      `SELECT range::BIGINT AS id, 'row ' || range AS label, (range / 4)::DECIMAL(10,2) AS amount, DATE '2026-01-01' + range::INTEGER AS day FROM range(1, 101)`,
    );
    await upload('raw/fmt-parquet/typed.parquet', bytes);
    const manifest = await manifestOf(batchId('fmt-parquet', sha256(bytes)));
    expect(manifest.rows).toMatchObject({ source: 100, clean: 100, suspect: 0 });
    const [stats] = await readParquet<{ n: string; total: string }>(
      manifest.outputs.clean[0]!,
      'SELECT count(*) AS n, sum(amount)::VARCHAR AS total FROM t',
    );
    expect(stats).toEqual({ n: '100', total: '1262.50' });
  });

  it('Parquet with a retyped column is drift', async () => {
    const bytes = await parquetBytes(
      `SELECT range::VARCHAR AS id, 'x' AS label, 1.5::DECIMAL(10,2) AS amount, DATE '2026-01-01' AS day FROM range(3)`,
    );
    await upload('raw/fmt-parquet-retyped/retyped.parquet', bytes);
    const batch = batchId('fmt-parquet-retyped', sha256(bytes));
    const report = JSON.parse(await eventually('the drift report', () => readText(keys.driftReport('fmt-parquet-retyped', batch))));
    expect(report.drift.retyped).toEqual([{ column: 'id', expected: 'integer', found: 'text' }]);
    expect((await streamState(vaultStore(), 'fmt-parquet-retyped')).state).toBe('halted');
  });
});
