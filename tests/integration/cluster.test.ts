import { createHash, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { clusterBatch } from '../../lib/cluster/cluster-batch.ts';
import { ClusterManifestSchema, type ClusterManifest } from '../../lib/vault/cluster-manifest.ts';
import { ClusterSpecSchema } from '../../lib/vault/cluster-spec.ts';
import { faissIndexFactory } from '../../lib/cluster/faiss-index.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { eventually, readParquet, readText, upload, vaultStore } from '../support/vault.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const HEADER = 'order_id,customer,email,amount,ordered_at,note';

async function clusterManifestOf(batch: string): Promise<ClusterManifest> {
  const text = await eventually(`cluster manifest of ${batch}`, () => readText(keys.clusterManifest(batch)), 90_000);
  return ClusterManifestSchema.parse(JSON.parse(text));
}

/** Uploads a file, lets ingest and then cluster run through the store's notifications. */
async function uploadAndCluster(name: string, rows: string[]) {
  const csv = `${[HEADER, ...rows].join('\n')}\n`;
  await upload(`raw/orders/${name}.csv`, csv);
  const batch = batchId('orders', sha256(csv));
  return { batch, manifest: await clusterManifestOf(batch) };
}

describe('cluster (through upload notifications, on the real stack)', () => {
  it('compresses injected error patterns into the expected clusters, one object per cluster', async () => {
    const tag = randomUUID();
    const rows: string[] = [];
    let id = 0;
    const row = (f: { customer?: string; email?: string; amount?: string; date?: string }) =>
      `${++id},${f.customer ?? 'Ada'},${f.email ?? `ada${id}@example.org`},${f.amount ?? '1.00'},${f.date ?? '2026-01-01'},${tag}`;
    for (let i = 0; i < 8; i++) rows.push(row({ amount: `${i + 1}2.50 USD` }));
    for (let i = 0; i < 6; i++) rows.push(row({ date: `0${i + 1}/15/2026` }));
    for (let i = 0; i < 4; i++) rows.push(row({ date: `1${i}.03.2026` }));
    rows.push(row({ email: 'John Doe ID:101' }), row({ email: 'Jon Doe ID:102' }));
    rows.push(row({}), row({}), row({}));
    rows.push(row({ customer: '' }));
    const { batch, manifest } = await uploadAndCluster(`patterns-${tag}`, rows);

    expect(manifest.suspect_rows).toBe(21);
    const found = manifest.clusters.map((c) => `${c.column}:${c.rule}:${c.cells}`).sort();
    expect(found).toEqual(['amount:type:8', 'customer:not_null:1', 'email:type:2', 'ordered_at:type:4', 'ordered_at:type:6']);
    expect(manifest.expected_model_calls).toBe(5);
    expect(manifest.cluster_compression).toBeCloseTo(1 - 5 / 21, 6);
    expect(manifest.index).toBe('faiss IndexFlatIP');

    // Each cluster is an object under work/ (the remediate trigger) with its cells beside it.
    const specs = await Promise.all(
      manifest.clusters.map(async (c) =>
        ClusterSpecSchema.parse(JSON.parse(await eventually(`cluster ${c.cluster}`, () => readText(keys.cluster(batch, c.cluster))))),
      ),
    );
    const dates = specs.find((s) => s.column === 'ordered_at' && s.cells === 6)!;
    expect(dates.shapes).toEqual([{ shape: '9/9/9', cells: 6 }]);
    expect(dates.samples.length).toBeGreaterThan(1);
    expect(dates.samples.every((s) => /^0\d\/15\/2026$/.test(s.value!))).toBe(true);
    expect(specs.find((s) => s.column === 'email')!.pii).toBe(true);
    const cells = await readParquet<{ row_id: string; value: string }>(dates.cells_object);
    expect(cells.map((c) => Number(c.row_id))).toEqual([9, 10, 11, 12, 13, 14]);

    // The fan-out: every cluster object reached remediate through the store's notifications, which wrote its result.
    for (const c of manifest.clusters) {
      await eventually(`remediate result for ${c.cluster}`, () => readText(keys.clusterResult(batch, c.cluster)), 120_000);
    }
  });

  it('never merges records: near-identical values with different primary keys stay two rows with their own hashes', async () => {
    const tag = randomUUID();
    const { batch, manifest } = await uploadAndCluster(`pk-guard-${tag}`, [
      `101,John Doe,John Doe ID:101,1.00,2026-01-01,${tag}`,
      `102,Jon Doe,Jon Doe ID:102,1.00,2026-01-01,${tag}`,
    ]);
    expect(manifest.clusters).toHaveLength(1);
    const spec = ClusterSpecSchema.parse(
      JSON.parse(await eventually('cluster object', () => readText(keys.cluster(batch, manifest.clusters[0]!.cluster)))),
    );
    const cells = await readParquet<{ row_id: string; pk_hash: string; value: string }>(spec.cells_object);
    expect(cells.map((c) => [Number(c.row_id), c.value, c.pk_hash])).toEqual([
      [1, 'John Doe ID:101', sha256('101')],
      [2, 'Jon Doe ID:102', sha256('102')],
    ]);
  });

  it('sends a batch with no suspect rows straight to reconcile', async () => {
    const tag = randomUUID();
    const { batch, manifest } = await uploadAndCluster(`clean-${tag}`, [`1,Ada,ada@example.org,1.00,2026-01-01,${tag}`]);
    expect(manifest.suspect_rows).toBe(0);
    expect(manifest.clusters).toEqual([]);
    expect(manifest.expected_model_calls).toBe(0);
    expect(JSON.parse(await eventually('no-clusters result', () => readText(keys.noClusters(batch))))).toEqual({ batch, clusters: 0 });
  });

  it('names the same clusters when run again', async () => {
    const tag = randomUUID();
    const { batch, manifest } = await uploadAndCluster(`rerun-${tag}`, [
      `1,Ada,ada@example.org,7.00 EUR,2026-01-01,${tag}`,
      `2,Ada,ada@example.org,1.00,2026/01/02,${tag}`,
    ]);
    const again = await clusterBatch(
      {
        store: vaultStore(),
        workDir: tmpdir(),
        engine: { memoryLimit: '256MB', threads: 1 },
        embedder: new HashingEmbedder(),
        makeIndex: faissIndexFactory,
        mergeSimilarity: manifest.merge_similarity,
      },
      keys.ingestManifest(batch),
    );
    expect(again.status).toBe('clustered');
    expect(again.status === 'clustered' && again.clusters).toEqual(manifest.clusters.map((c) => c.cluster).sort());
  });
});
