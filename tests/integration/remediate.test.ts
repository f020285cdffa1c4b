import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClusterManifestSchema } from '../../lib/vault/cluster-manifest.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { ClusterResultSchema, type ClusterResult } from '../../lib/vault/cluster-result.ts';
import { eventually, logLines, readParquet, readText, upload, vaultStore } from '../support/vault.ts';

/**
 * remediate on the real stack: an upload goes through ingest and cluster by the store's
 * notifications, and every cluster object makes serverless-offline run remediate, which
 * writes staged and quarantined cells, audit rows and the cluster's result. The local stack
 * has no model configured: clusters the synthesizer cannot fix go to review, and the skip is
 * said once per batch.
 */
const STREAM = 'fieldwork';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  await registerContract(vaultStore(), {
    stream: STREAM,
    version: 1,
    columns: [
      { name: 'visit_id', type: 'integer', primary_key: true },
      // Rounding to the scale is a repair only because the contract names it (80.25kg -> 80.3).
      { name: 'weight_kg', type: 'decimal', scale: 1, rounding: 'half-up' },
      { name: 'visited_on', type: 'date', format: '%Y-%m-%d' },
      { name: 'site', type: 'string', pattern: '[A-Z]{2}-[0-9]{3}' },
      { name: 'note', type: 'string' },
    ],
  });
});

async function resultsOf(batch: string): Promise<ClusterResult[]> {
  const manifest = ClusterManifestSchema.parse(
    JSON.parse(await eventually('cluster manifest', () => readText(keys.clusterManifest(batch)), 90_000)),
  );
  return Promise.all(
    manifest.clusters.map(async (c) =>
      ClusterResultSchema.parse(
        JSON.parse(await eventually(`result of ${c.cluster}`, () => readText(keys.clusterResult(batch, c.cluster)), 120_000)),
      ),
    ),
  );
}

describe('remediate (through upload notifications, on the real stack)', () => {
  it('fixes what the synthesizer can, sends the rest to review, and loses no cell', async () => {
    const tag = randomUUID();
    const rows = [
      `1,72.5 kg,2026-03-01,AB-001,${tag}`,
      `2,80.25kg,2026-03-02,AB-002,${tag}`,
      `3,61 kg,2026-03-03,CD-003,${tag}`,
      `4,70.0,03/15/2026,CD-004,${tag}`,
      `5,70.0,12/01/2025,EF-005,${tag}`,
      `6,70.0,2026-03-04,ab 6,${tag}`,
      `7,70.0,2026-03-05,cd 7,${tag}`,
    ];
    const csv = `visit_id,weight_kg,visited_on,site,note\n${rows.join('\n')}\n`;
    await upload(`raw/${STREAM}/visits-${tag}.csv`, csv);
    const batch = batchId(STREAM, sha256(csv));
    const results = await resultsOf(batch);

    const summary = Object.fromEntries(results.map((r) => [r.column, `${r.disposition}/${r.tier}`]));
    expect(summary).toEqual({ weight_kg: 'fixed/synthesizer', visited_on: 'fixed/synthesizer', site: 'needs-review/review' });

    // A column's values may fall into several clusters (one per shape): gather them.
    const of = (column: string) => results.filter((r) => r.column === column);
    const parquetOf = async <T>(column: string, output: 'staged' | 'audit' | 'quarantine') =>
      (await Promise.all(of(column).map((r) => readParquet<T & { row_id: string }>(r.outputs[output]!))))
        .flat()
        .sort((a, b) => Number(a.row_id) - Number(b.row_id));
    const staged = await parquetOf<{ old_value: string; new_value: string }>('weight_kg', 'staged');
    expect(staged.map((s) => [Number(s.row_id), s.old_value, s.new_value])).toEqual([
      [1, '72.5 kg', '72.5'],
      [2, '80.25kg', '80.3'],
      [3, '61 kg', '61'],
    ]);
    const audit = await parquetOf<{ tier: string; function_name: string }>('weight_kg', 'audit');
    expect(audit.map((a) => [Number(a.row_id), a.tier, a.function_name])).toEqual(
      [1, 2, 3].map((r) => [r, 'synthesizer', 'extract-number']),
    );

    const dates = await parquetOf<{ new_value: string }>('visited_on', 'staged');
    expect(dates.map((d) => d.new_value)).toEqual(['2026-03-15', '2025-12-01']);

    const quarantined = await parquetOf<{ reason: string }>('site', 'quarantine');
    expect(quarantined.map((q) => [Number(q.row_id), q.reason])).toEqual([
      [6, 'needs-review'],
      [7, 'needs-review'],
    ]);
    expect(of('site').every((r) => r.reason.includes('model tier not configured'))).toBe(true);

    // Said once for the batch, not once per cluster.
    const notices = await eventually('model-tier notice', async () => {
      const lines = logLines('serverless-offline').filter((l) => String(l['message']).includes(`model tier skipped for batch ${batch}`));
      return lines.length ? lines : undefined;
    });
    expect(notices).toHaveLength(1);
  });
});
