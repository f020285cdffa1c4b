import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { ReconcileManifestSchema } from '../../lib/vault/reconcile-manifest.ts';
import { eventually, readText, s3, stack, upload, vaultStore } from '../support/vault.ts';

/**
 * Numbers keep every digit (issue 11, defect 1): a decimal column without a declared scale whose
 * values carry 7 fraction digits goes through clean, untouched, into curated Parquet with every
 * digit, compared as exact decimals against the file's own text.
 */
const STREAM = 'geo';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  await registerContract(vaultStore(), {
    stream: STREAM,
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'lat', type: 'decimal' },
      { name: 'lon', type: 'decimal' },
    ],
  });
});

describe('a decimal without a scale, on the real stack', () => {
  it('50,000 rows with 7 fraction digits: all clean, every digit kept in curated', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => {
      const lat = (((i * 7_919) % 1_800_000_000) / 10_000_000 - 90).toFixed(7);
      const lon = (((i * 104_729) % 3_600_000_000) / 10_000_000 - 180).toFixed(7);
      return `${i + 1},${lat},${lon}`;
    });
    const csv = `id,lat,lon\n${rows.join('\n')}\n`;
    const batch = batchId(STREAM, sha256(csv));
    await upload(`raw/${STREAM}/points.csv`, csv);
    const manifest = ReconcileManifestSchema.parse(
      JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000)),
    );
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 50_000, clean: 50_000, fixed: 0, quarantined: 0 } });
    const dir = mkdtempSync(join(tmpdir(), 'vm-decimals-'));
    const engine = await Engine.open({ memoryLimit: '512MB', threads: 2, spillDir: join(dir, 'spill') });
    try {
      const out = await s3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: manifest.curated! }));
      writeFileSync(join(dir, 'curated.parquet'), await out.Body!.transformToByteArray());
      writeFileSync(join(dir, 'source.csv'), csv);
      const [types] = await engine.rows<{ lat: string; lon: string }>(
        `SELECT typeof(lat) AS lat, typeof(lon) AS lon FROM read_parquet('${join(dir, 'curated.parquet')}') LIMIT 1`,
      );
      expect(types).toEqual({ lat: 'DECIMAL(38,18)', lon: 'DECIMAL(38,18)' });
      const [diff] = await engine.rows<{ rows: bigint; changed: bigint }>(`
        SELECT count(*) AS rows, count(*) FILTER (WHERE c.lat <> CAST(s.lat AS DECIMAL(38, 18)) OR c.lon <> CAST(s.lon AS DECIMAL(38, 18))) AS changed
        FROM read_parquet('${join(dir, 'curated.parquet')}') c
        JOIN read_csv('${join(dir, 'source.csv')}', all_varchar = true) s ON c.row_id = CAST(s.id AS BIGINT)`);
      expect({ rows: Number(diff!.rows), changed: Number(diff!.changed) }).toEqual({ rows: 50_000, changed: 0 });
    } finally {
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
