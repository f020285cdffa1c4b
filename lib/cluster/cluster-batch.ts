import { contractOfBatch } from '../contract/batch-contract.ts';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Engine } from '../engine/duckdb.ts';
import { literal } from '../engine/sql.ts';
import { DataLossError } from '../errors.ts';
import { downloadObject } from '../store/download.ts';
import { keys, parseIngestManifestKey } from '../keys.ts';
import { jsonText } from '../store/json-objects.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { loadCells } from './cells.ts';
import { serialiseClusterManifest, type ClusterManifest } from '../vault/cluster-manifest.ts';
import { serialiseClusterSpec, type ClusterSpec } from '../vault/cluster-spec.ts';
import type { Embedder } from './embedder.ts';
import { mergeSimilarGroups, type ExactGroup } from './merge-patterns.ts';
import type { VectorIndexFactory } from './vector-index.ts';
import { readObject } from '../vault/vault-object.ts';
import type { IngestManifest } from '../vault/ingest-manifest.ts';
import { vaultObjects } from '../vault/objects.ts';
import { withWorkspace } from '../engine/workspace.ts';
import { faultPoint } from '../faults/fault-point.ts';

/** What cluster needs: the vault, scratch space, the engine's limits, the embedder and the vector index. */
export interface ClusterDeps {
  store: ObjectStore;
  workDir: string;
  engine: { memoryLimit: string; threads: number };
  embedder: Embedder;
  makeIndex: VectorIndexFactory;
  /** Cosine similarity at or above which two shapes of one column and rule are one pattern. */
  mergeSimilarity: number;
}

/** The clusters a batch was compressed into, or why it had none. */
export type ClusterOutcome =
  | { status: 'clustered'; batch: string; clusters: string[]; manifest: ClusterManifest }
  | { status: 'nothing-to-cluster'; batch: string; reason: 'no-suspect-rows' | 'batch-quarantined' };

/** Representative values per cluster. */
export const MAX_SAMPLES = 8;
const ms = (since: number) => Math.round(performance.now() - since);

/**
 * cluster: a batch's suspect rows -> the few error patterns that explain them.
 * Cells are grouped exactly by (column, rule, shape) in the engine; similar shapes of one
 * column and rule are then merged through embeddings in a vector index. Each cluster becomes
 * an object under work/ (triggering one remediate invocation each) with its cells beside it.
 * Cluster ids come from the batch and the cluster's content, so a re-run names the same
 * clusters; objects that exist already are not written again (no second notification).
 * A batch without suspect rows goes straight to reconcile through `results/<batch>/none.json`.
 */
export async function clusterBatch(deps: ClusterDeps, manifestKey: string): Promise<ClusterOutcome> {
  const started = performance.now();
  const { batch } = parseIngestManifestKey(manifestKey);
  const ingest = await readObject(deps.store, vaultObjects.ingestManifest.at(batch));
  const suspectRows = ingest.rows?.suspect ?? 0;
  if (ingest.status !== 'ingested' || suspectRows === 0) {
    const manifest = baseManifest(deps, ingest.batch, ingest.stream, 0, 0, 0, [], { total: ms(started) });
    await putOnce(deps.store, keys.clusterManifest(batch), serialiseClusterManifest(manifest));
    await putOnce(deps.store, keys.noClusters(batch), jsonText({ batch, clusters: 0 }));
    return { status: 'nothing-to-cluster', batch, reason: ingest.status === 'ingested' ? 'no-suspect-rows' : 'batch-quarantined' };
  }
  const contract = await contractOfBatch(deps.store, ingest.stream, ingest.contract);
  const pii = new Set(contract.columns.filter((c) => c.pii).map((c) => c.name));
  return withWorkspace(deps.workDir, 'cluster', deps.engine, async ({ dir, engine }) => {
    const timings: Record<string, number> = {};
    let t = performance.now();
    const cells = await loadSuspectCells(deps, engine, dir, ingest);
    timings['load'] = ms(t);
    t = performance.now();
    const { groups, clusters } = await groupAndMerge(deps, engine, batch);
    timings['group_and_merge'] = ms(t);
    await assignCells(engine, clusters);
    const summary = clusters.map((c) => ({ cluster: c.id, column: c.column, rule: c.rule, shapes: c.shapes.length, cells: c.cells }));
    const manifest = baseManifest(deps, batch, ingest.stream, suspectRows, cells, groups.length, summary, {
      ...timings,
      total: ms(started),
    });
    // The manifest first: it names every cluster whose result reconcile must wait for.
    await putOnce(deps.store, keys.clusterManifest(batch), serialiseClusterManifest(manifest));
    faultPoint('cluster:after-manifest');
    await fanOutClusters(deps, engine, dir, ingest, clusters, pii);
    faultPoint('cluster:after-fan-out');
    return { status: 'clustered', batch, clusters: clusters.map((c) => c.id), manifest };
  });
}

/** One error pattern: its id (the batch, column, rule and member shapes, hashed) and its exact groups. */
interface Cluster {
  id: string;
  column: string;
  rule: string;
  shapes: ExactGroup[];
  cells: number;
}

/** Phase: every suspect row's failing cells into the engine (`cells`), checked against the ingest manifest's count; the cell count. */
async function loadSuspectCells(deps: ClusterDeps, engine: Engine, dir: string, ingest: IngestManifest): Promise<number> {
  const files = await Promise.all(
    ingest.outputs.suspect.map((key, i) => downloadObject(deps.store, key, undefined, join(dir, `suspect-${i}.parquet`))),
  );
  const paths = files.map((f) => f.path);
  const described = await engine.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${literal(paths[0]!)})`);
  const columns = described.map((c) => c.column_name).filter((c) => !['row_id', 'pk_hash', 'reasons'].includes(c));
  await loadCells(engine, paths, columns);
  const [counted] = await engine.rows<{ rows: string; cells: string }>(
    'SELECT count(DISTINCT row_id) AS rows, count(*) AS cells FROM cells',
  );
  const expected = ingest.rows?.suspect ?? 0;
  if (Number(counted?.rows) !== expected) {
    throw new DataLossError(
      `batch ${ingest.batch}: the suspect outputs hold ${counted?.rows} rows with reasons; the ingest manifest says ${expected}`,
    );
  }
  return Number(counted?.cells);
}

/** Phase: cells grouped exactly by (column, rule, shape), similar groups of one column and rule merged into clusters. */
async function groupAndMerge(deps: ClusterDeps, engine: Engine, batch: string): Promise<{ groups: ExactGroup[]; clusters: Cluster[] }> {
  const rows = await engine.rows<{ column: string; rule: string; shape: string; cells: string; sample: string | null }>(
    `SELECT column_name AS column, rule, shape, count(*) AS cells, min(value) AS sample
     FROM cells GROUP BY ALL ORDER BY column_name, rule, count(*) DESC, shape`,
  );
  const groups = rows.map(
    (g): ExactGroup => ({ column: g.column, rule: g.rule, shape: g.shape, cells: Number(g.cells), sample: g.sample ?? '' }),
  );
  const roots = await mergeSimilarGroups(groups, { embedder: deps.embedder, makeIndex: deps.makeIndex, similarity: deps.mergeSimilarity });
  const members = new Map<number, ExactGroup[]>();
  roots.forEach((root, i) => members.set(root, [...(members.get(root) ?? []), groups[i]!]));
  const clusters = [...members.values()].map((member): Cluster => {
    const key = JSON.stringify([batch, member[0]!.column, member[0]!.rule, member.map((m) => m.shape).sort()]);
    const id = `c-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
    return { id, column: member[0]!.column, rule: member[0]!.rule, shapes: member, cells: member.reduce((n, m) => n + m.cells, 0) };
  });
  return { groups, clusters: clusters.sort((a, b) => a.id.localeCompare(b.id)) };
}

/** Phase: each cell labelled with its cluster (`clustered_cells`), in one join. */
async function assignCells(engine: Engine, clusters: Cluster[]): Promise<void> {
  const mapping = clusters.flatMap((c) =>
    c.shapes.map((s) => `(${literal(c.id)}, ${literal(s.column)}, ${literal(s.rule)}, ${literal(s.shape)})`),
  );
  await engine.run(
    `CREATE OR REPLACE TABLE shape_clusters AS SELECT * FROM (VALUES ${mapping.join(', ')}) t(cluster_id, column_name, rule, shape)`,
  );
  await engine.run(`CREATE OR REPLACE TABLE clustered_cells AS
    SELECT s.cluster_id, c.* FROM cells c JOIN shape_clusters s USING (column_name, rule, shape) ORDER BY s.cluster_id, c.row_id, c.column_name, c.rule`);
}

/** Phase: per cluster its cells (Parquet) and, last, its cluster object, which starts remediate; objects that exist are not written again. */
async function fanOutClusters(
  deps: ClusterDeps,
  engine: Engine,
  dir: string,
  ingest: IngestManifest,
  clusters: Cluster[],
  pii: Set<string>,
): Promise<void> {
  const samples = await clusterSamples(engine);
  const batch = ingest.batch;
  for (const cluster of clusters) {
    const cellsKey = keys.clusterCells(batch, cluster.id);
    if (!(await deps.store.exists(cellsKey))) {
      const local = join(dir, `${cluster.id}.parquet`);
      await engine.run(`COPY (SELECT row_id, pk_hash, column_name, rule, value, shape FROM clustered_cells
        WHERE cluster_id = ${literal(cluster.id)} ORDER BY row_id) TO ${literal(local)} (FORMAT parquet)`);
      await deps.store.putFile(cellsKey, local, { contentType: 'application/vnd.apache.parquet' });
    }
    const spec: ClusterSpec = {
      schema_version: 1,
      batch,
      stream: ingest.stream,
      cluster: cluster.id,
      column: cluster.column,
      rule: cluster.rule,
      pii: pii.has(cluster.column),
      shapes: cluster.shapes.map((s) => ({ shape: s.shape, cells: s.cells })),
      cells: cluster.cells,
      samples: samples.get(cluster.id) ?? [],
      cells_object: cellsKey,
      contract: { version: ingest.contract.version },
    };
    await putOnce(deps.store, keys.cluster(batch, cluster.id), serialiseClusterSpec(spec));
    faultPoint('cluster:mid-fan-out');
  }
}

/**
 * Up to MAX_SAMPLES values per cluster that cover its variety: the most frequent value of each
 * shape first (shapes with more cells first), then the next of each, and so on. Ties between
 * equally frequent values go by a hash of the value, so samples are spread, yet stable.
 */
async function clusterSamples(engine: Engine): Promise<Map<string, ClusterSpec['samples']>> {
  const rows = await engine.rows<{ cluster_id: string; value: string | null; shape: string; row_id: string; n: string }>(`
    WITH v AS (SELECT cluster_id, shape, value, count(*) AS n, min(row_id) AS row_id FROM clustered_cells GROUP BY ALL),
    s AS (SELECT cluster_id, shape, sum(n) AS shape_cells FROM v GROUP BY ALL),
    ranked AS (
      SELECT v.*, s.shape_cells,
        row_number() OVER (PARTITION BY v.cluster_id, v.shape ORDER BY v.n DESC, md5(COALESCE(v.value, ''))) AS rank_in_shape
      FROM v JOIN s USING (cluster_id, shape))
    SELECT cluster_id, value, shape, row_id, n FROM (
      SELECT *, row_number() OVER (PARTITION BY cluster_id ORDER BY rank_in_shape, shape_cells DESC, shape) AS pick FROM ranked)
    WHERE pick <= ${MAX_SAMPLES} ORDER BY cluster_id, pick`);
  const samples = new Map<string, ClusterSpec['samples']>();
  for (const r of rows) {
    samples.set(r.cluster_id, [
      ...(samples.get(r.cluster_id) ?? []),
      { value: r.value, shape: r.shape, row_id: Number(r.row_id), occurrences: Number(r.n) },
    ]);
  }
  return samples;
}

/** 1 - clusters / suspect rows, at least 0 (0 without suspect rows): see ClusterManifest `cluster_compression`. */
export function clusterCompression(suspectRows: number, clusters: number): number {
  return suspectRows === 0 ? 0 : Math.max(0, 1 - clusters / suspectRows);
}

function baseManifest(
  deps: ClusterDeps,
  batch: string,
  stream: string,
  suspectRows: number,
  cells: number,
  exactGroups: number,
  clusters: ClusterManifest['clusters'],
  timings: Record<string, number>,
): ClusterManifest {
  return {
    schema_version: 2,
    batch,
    stream,
    suspect_rows: suspectRows,
    cells,
    exact_groups: exactGroups,
    clusters,
    expected_model_calls: clusters.length,
    cluster_compression: clusterCompression(suspectRows, clusters.length),
    embedder: { name: deps.embedder.name, dimensions: deps.embedder.dimensions },
    index: deps.makeIndex.name,
    merge_similarity: deps.mergeSimilarity,
    timings_ms: timings,
  };
}

/** Writes an object unless it exists: a re-run must not notify the flow a second time. */
async function putOnce(store: ObjectStore, key: string, body: string): Promise<void> {
  if (await store.exists(key)) return;
  await store.put(key, body, { contentType: 'application/json' });
}
