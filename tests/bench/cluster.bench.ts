import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { clusterBatch } from '../../lib/cluster/cluster-batch.ts';
import { faissIndexFactory } from '../../lib/cluster/faiss-index.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { ingestObject } from '../../lib/ingest/ingest-object.ts';
import { keys } from '../../lib/keys.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { writeBenchResult } from './bench-files.ts';
import { PATTERNS, PAYMENTS_CONTRACT, writePaymentsCsv } from './generate-patterns.ts';

/**
 * bench:cluster — 50,000 suspect rows made of 12 injected error patterns across 4 columns plus
 * 1% free-text noise, ingested, then clustered (timed: the cluster step alone) with the default
 * embedder and the faiss index. Purity: the share of injected patterns whose rows all sit in
 * clusters holding no other pattern (and no noise). Results: tests/bench/results/cluster.json.
 */
const ROWS = Number(process.env['BENCH_ROWS'] ?? 50_000);
const NOISE_SHARE = 0.01;
const SIMILARITY = Number(process.env['BENCH_SIMILARITY'] ?? 0.85);

async function main(): Promise<void> {
  const dir = join(tmpdir(), `vaultmend-bench-cluster-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const root = join(dir, 'vault');
  mkdirSync(join(root, 'raw', 'payments'), { recursive: true });
  try {
    const labels = await writePaymentsCsv(join(root, 'raw', 'payments', 'bench.csv'), ROWS, NOISE_SHARE);
    const store = new FileObjectStore(root);
    await registerContract(store, PAYMENTS_CONTRACT);
    const engine = { memoryLimit: '512MB', threads: 2 };
    const ingested = await ingestObject(
      { store, alerts: new LogAlertSink(() => {}), workDir: join(dir, 'work'), engine },
      { bucket: 'bench', key: 'raw/payments/bench.csv' },
    );
    if (ingested.status !== 'ingested') throw new Error(`bench file was not ingested: ${ingested.status}`);

    const started = performance.now();
    const outcome = await clusterBatch(
      {
        store,
        workDir: join(dir, 'work'),
        engine,
        embedder: new HashingEmbedder(),
        makeIndex: faissIndexFactory,
        mergeSimilarity: SIMILARITY,
      },
      ingested.manifestKey,
    );
    const seconds = (performance.now() - started) / 1000;
    if (outcome.status !== 'clustered') throw new Error(`nothing clustered: ${outcome.reason}`);

    // Which labels each cluster holds, from the cells objects it wrote.
    const reader = await Engine.open({ ...engine, spillDir: join(dir, 'spill') });
    const labelsOf = new Map<string, Set<string>>();
    const clustersOf = new Map<string, Set<string>>();
    try {
      for (const cluster of outcome.clusters) {
        const path = join(root, keys.clusterCells(outcome.batch, cluster));
        for (const { row_id } of await reader.rows<{ row_id: string }>(`SELECT row_id FROM read_parquet('${path}')`)) {
          const label = labels[Number(row_id) - 1]!;
          labelsOf.set(cluster, (labelsOf.get(cluster) ?? new Set()).add(label));
          clustersOf.set(label, (clustersOf.get(label) ?? new Set()).add(cluster));
        }
      }
    } finally {
      reader.close();
    }
    const patterns = PATTERNS.map((p) => p.name).filter((name) => clustersOf.has(name));
    const pure = patterns.filter((name) => [...clustersOf.get(name)!].every((c) => labelsOf.get(c)!.size === 1));
    const { manifest } = outcome;
    const result = {
      suspect_rows: manifest.suspect_rows,
      injected_patterns: patterns.length,
      noise_rows: labels.filter((l) => l === 'noise').length,
      exact_groups: manifest.exact_groups,
      clusters: outcome.clusters.length,
      calls: manifest.expected_model_calls,
      cluster_compression: manifest.cluster_compression,
      purity: patterns.length ? pure.length / patterns.length : 0,
      impure_patterns: patterns.filter((p) => !pure.includes(p)),
      clusters_per_pattern: Object.fromEntries(patterns.map((p) => [p, clustersOf.get(p)!.size])),
      noise_clusters: clustersOf.get('noise')?.size ?? 0,
      seconds: Math.round(seconds * 1000) / 1000,
      timings_ms: manifest.timings_ms,
      embedder: manifest.embedder,
      index: manifest.index,
      merge_similarity: manifest.merge_similarity,
      targets: { cluster_compression_min: 0.999, calls_max: 50, purity: 1, seconds_max: 10 },
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      measured_at: new Date().toISOString(),
    };
    writeBenchResult('cluster', result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
