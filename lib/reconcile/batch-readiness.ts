import { type ClusterManifest } from '../vault/cluster-manifest.ts';
import { type IngestManifest } from '../vault/ingest-manifest.ts';
import { keys } from '../keys.ts';
import { type ClusterResult } from '../vault/cluster-result.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { readObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';

/**
 * Whether a batch can be reconciled: its cluster manifest names every cluster whose result
 * must exist. Results are found by HEAD, not by listing (listings can lag writes).
 */
/** A batch whose every cluster result is in, with what reconcile reads of it. */
export type Ready = { status: 'ready'; ingest: IngestManifest; clusters: ClusterManifest; results: ClusterResult[] };

export type Readiness = Ready | { status: 'waiting'; missing: string[]; clusters: ClusterManifest } | { status: 'not-clustered' };

export async function batchReadiness(store: ObjectStore, batch: string): Promise<Readiness> {
  const clusterKey = keys.clusterManifest(batch);
  if (!(await store.exists(clusterKey))) return { status: 'not-clustered' };
  const clusters = await readObject(store, vaultObjects.clusterManifest.at(batch));
  const present = await Promise.all(clusters.clusters.map((c) => store.exists(keys.clusterResult(batch, c.cluster))));
  const missing = clusters.clusters.filter((_, i) => !present[i]).map((c) => c.cluster);
  if (missing.length) return { status: 'waiting', missing, clusters };
  const ingest = await readObject(store, vaultObjects.ingestManifest.at(batch));
  const results = await Promise.all(clusters.clusters.map(async (c) => readObject(store, vaultObjects.clusterResult.at(batch, c.cluster))));
  return { status: 'ready', ingest, clusters, results };
}
