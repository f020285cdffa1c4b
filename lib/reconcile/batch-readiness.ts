import { ClusterManifestSchema, type ClusterManifest } from '../cluster/cluster-manifest.ts';
import { IngestManifestSchema, type IngestManifest } from '../ingest/manifest.ts';
import { keys } from '../keys.ts';
import { ClusterResultSchema, type ClusterResult } from '../remediate/cluster-result.ts';
import type { ObjectStore } from '../store/object-store.ts';

/**
 * Whether a batch can be reconciled: its cluster manifest names every cluster whose result
 * must exist. Results are found by HEAD, not by listing (listings can lag writes).
 */
export type Readiness =
  | { status: 'ready'; ingest: IngestManifest; clusters: ClusterManifest; results: ClusterResult[] }
  | { status: 'waiting'; missing: string[]; clusters: ClusterManifest }
  | { status: 'not-clustered' };

export async function batchReadiness(store: ObjectStore, batch: string): Promise<Readiness> {
  const clusterKey = keys.clusterManifest(batch);
  if (!(await store.exists(clusterKey))) return { status: 'not-clustered' };
  const clusters = ClusterManifestSchema.parse(JSON.parse(await store.readText(clusterKey)));
  const present = await Promise.all(clusters.clusters.map((c) => store.exists(keys.clusterResult(batch, c.cluster))));
  const missing = clusters.clusters.filter((_, i) => !present[i]).map((c) => c.cluster);
  if (missing.length) return { status: 'waiting', missing, clusters };
  const ingest = IngestManifestSchema.parse(JSON.parse(await store.readText(keys.ingestManifest(batch))));
  const results = await Promise.all(clusters.clusters.map(async (c) => ClusterResultSchema.parse(JSON.parse(await store.readText(keys.clusterResult(batch, c.cluster))))));
  return { status: 'ready', ingest, clusters, results };
}
