import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { batchReadiness } from '../reconcile/batch-readiness.ts';
import { type Claim, claimScopes, liveClaim, releaseClaim } from '../vault/claims.ts';

/** The step a half-done batch is re-driven from, and the objects whose replay notifies it. */
export type ReplayPlan =
  | { batch: string; step: 'done'; replay: []; held: [] }
  | { batch: string; step: 'cluster' | 'remediate' | 'reconcile'; replay: string[]; held: Claim[] };

/** A batch with no ingest manifest: only its raw object (by key) can re-drive it. */
export class BatchUnknownError extends Error {
  constructor(batch: string) {
    super(`batch ${batch} has no ingest manifest: replay its raw object instead (vaultmend replay raw/<stream>/<file>)`);
  }
}

/**
 * Where a batch stopped: the first step whose output is missing, from the vault alone, read as
 * reconcile reads it (batchReadiness). No cluster manifest -> cluster (replay the ingest
 * manifest); results missing -> remediate (replay the cluster objects without a result); every
 * result in but no reconcile manifest -> reconcile (replay one result, or `none.json`). `held`
 * lists live claims on that work: a holder that may still be running, or that died within its
 * lease (kill -9); their deliveries would exit until the lease ends.
 */
export async function planReplay(store: ObjectStore, batch: string, now = new Date()): Promise<ReplayPlan> {
  if (await store.exists(keys.reconcileManifest(batch))) return { batch, step: 'done', replay: [], held: [] };
  if (!(await store.exists(keys.ingestManifest(batch)))) throw new BatchUnknownError(batch);
  const readiness = await batchReadiness(store, batch);
  const held = async (scopes: string[]) =>
    (await Promise.all(scopes.map((scope) => liveClaim(store, scope, now)))).filter((c) => c !== undefined);
  if (readiness.status === 'not-clustered') {
    return { batch, step: 'cluster', replay: [keys.ingestManifest(batch)], held: await held([claimScopes.cluster(batch)]) };
  }
  if (readiness.status === 'waiting') {
    const replay = readiness.missing.map((cluster) => keys.cluster(batch, cluster));
    return {
      batch,
      step: 'remediate',
      replay,
      held: await held(readiness.missing.map((cluster) => claimScopes.remediate(batch, cluster))),
    };
  }
  const first = readiness.clusters.clusters[0];
  const replay = [first ? keys.clusterResult(batch, first.cluster) : keys.noClusters(batch)];
  return { batch, step: 'reconcile', replay, held: await held([claimScopes.reconcile(batch)]) };
}

/**
 * Re-drives a half-done batch from its first missing output, through the same notifications as
 * the first time (each object is written again onto itself): idempotent, since every step is
 * once-only and its outputs deterministic. With `release`, live claims on that work are released
 * first — for an operator who knows their holders are gone (a killed process); without it, a held
 * claim is reported and its work left to its holder.
 *
 * @example
 * const { plan, replayed } = await replayBatch(store, 'orders-0123456789abcdef0123', { release: true });
 */
export async function replayBatch(
  store: ObjectStore,
  batch: string,
  options: { release?: boolean; now?: Date } = {},
): Promise<{ plan: ReplayPlan; replayed: string[] }> {
  const plan = await planReplay(store, batch, options.now);
  if (plan.step === 'done') return { plan, replayed: [] };
  if (plan.held.length && !options.release) return { plan, replayed: [] };
  for (const claim of plan.held) await releaseClaim(store, claim);
  for (const key of plan.replay) await store.replay(key);
  return { plan, replayed: plan.replay };
}
