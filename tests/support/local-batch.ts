import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { clusterBatch } from '../../lib/cluster/cluster-batch.ts';
import { ClusterSpecSchema, type ClusterSpec } from '../../lib/vault/cluster-spec.ts';
import { faissIndexFactory } from '../../lib/cluster/faiss-index.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { ingestObject } from '../../lib/ingest/ingest-object.ts';
import { keys } from '../../lib/keys.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import type { Sandbox } from '../../lib/remediate/sandbox.ts';

/**
 * A batch taken through the real ingest and cluster steps on a file-system store (the same
 * ObjectStore interface as the S3 one), for tests and benchmarks of the steps after them.
 */
export interface LocalBatch {
  store: FileObjectStore;
  root: string;
  workDir: string;
  batch: string;
  clusters: ClusterSpec[];
  cleanup(): void;
}

export const ENGINE = { memoryLimit: '512MB', threads: 2 };

export async function ingestAndCluster(contract: unknown, stream: string, csv: string, name = 'batch.csv'): Promise<LocalBatch> {
  const dir = join(tmpdir(), `vaultmend-local-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const root = join(dir, 'vault');
  const workDir = join(dir, 'work');
  mkdirSync(join(root, 'raw', stream), { recursive: true });
  writeFileSync(join(root, 'raw', stream, name), csv);
  const store = new FileObjectStore(root);
  await registerContract(store, contract);
  const ingested = await ingestObject(
    { store, alerts: new LogAlertSink(() => {}), workDir, engine: ENGINE },
    { bucket: 'local', key: `raw/${stream}/${name}` },
  );
  if (ingested.status !== 'ingested') throw new Error(`not ingested: ${ingested.status}`);
  const outcome = await clusterBatch(
    { store, workDir, engine: ENGINE, embedder: new HashingEmbedder(), makeIndex: faissIndexFactory, mergeSimilarity: 0.85 },
    ingested.manifestKey,
  );
  const ids = outcome.status === 'clustered' ? outcome.clusters : [];
  const clusters = await Promise.all(
    ids.map(async (id) => ClusterSpecSchema.parse(JSON.parse(await store.readText(keys.cluster(ingested.batch, id))))),
  );
  return { store, root, workDir, batch: ingested.batch, clusters, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * What each step needs on a local vault, built alike for every test: remediate (no model,
 * threshold 0.75), reconcile (alerts dropped, audit locked one day), review and cluster.
 */
export function localDeps(b: { store: FileObjectStore; workDir: string }, sandbox: Sandbox) {
  return {
    remediate: { store: b.store, workDir: b.workDir, engine: ENGINE, sandbox, threshold: 0.75, model: undefined },
    reconcile: {
      store: b.store,
      alerts: new LogAlertSink(() => {}),
      keys: new VaultKeyStore(b.store),
      workDir: b.workDir,
      engine: ENGINE,
      auditRetentionDays: 1,
    },
    review: { store: b.store, workDir: b.workDir, engine: ENGINE, sandbox },
    cluster: {
      store: b.store,
      workDir: b.workDir,
      engine: ENGINE,
      embedder: new HashingEmbedder(),
      makeIndex: faissIndexFactory,
      mergeSimilarity: 0.85,
    },
  };
}

/** A small contract whose three columns give the review story its clusters: a fixable amount, and a date that reads two ways. */
export function deskContract(stream = 'desk') {
  return {
    stream,
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'amount', type: 'decimal', scale: 2 },
      { name: 'seen_on', type: 'date' },
    ],
  };
}

/** Three rows for deskContract: one clean, an amount with its currency, and 11/04/2026 (November 4th or April 11th: it waits for review). */
export const DESK_CSV = 'id,amount,seen_on\n1,1.00,2026-01-01\n2,12.50 USD,2026-01-02\n3,2.00,11/04/2026\n';
