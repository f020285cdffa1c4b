import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { batchReadiness } from './batch-readiness.ts';

/**
 * Batches whose cluster results have not all arrived after `afterSeconds` (counted from their
 * cluster manifest): a remediate invocation failed for good or never ran. Each comes with the
 * clusters still missing, so an operator can replay exactly those cluster objects.
 */
export interface StuckBatch {
  batch: string;
  stream: string;
  clustered_at: string;
  waiting_seconds: number;
  missing: string[];
}

export async function stuckBatches(store: ObjectStore, afterSeconds: number, now = new Date()): Promise<StuckBatch[]> {
  const stuck: StuckBatch[] = [];
  for (const key of await store.list('manifests/')) {
    const match = /^manifests\/([^/]+)\/cluster\.json$/.exec(key);
    if (!match) continue;
    const batch = match[1]!;
    if (await store.exists(keys.reconcileManifest(batch))) continue;
    const clusteredAt = await store.modifiedAt(key);
    if (!clusteredAt) continue;
    const waiting = Math.round((now.getTime() - clusteredAt.getTime()) / 1000);
    if (waiting < afterSeconds) continue;
    const readiness = await batchReadiness(store, batch);
    if (readiness.status !== 'waiting') continue;
    stuck.push({
      batch,
      stream: readiness.clusters.stream,
      clustered_at: clusteredAt.toISOString(),
      waiting_seconds: waiting,
      missing: readiness.missing,
    });
  }
  return stuck;
}
