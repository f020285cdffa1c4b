import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { type Claim, releaseClaim } from '../vault/claims.ts';
import { vaultObjects } from '../vault/objects.ts';
import { findObject } from '../vault/vault-object.ts';

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

/** The live claim on `scope` (its newest generation, within its lease and not released), if any. */
async function liveClaim(store: ObjectStore, scope: string, now: Date): Promise<Claim | undefined> {
  let live: Claim | undefined;
  for (let generation = 0; ; generation++) {
    const claim = await findObject(store, vaultObjects.claim.at(scope, generation));
    if (!claim) return live;
    const released = await store.exists(keys.claimRelease(scope, generation));
    live = !released && Date.parse(claim.lease_until) > now.getTime() ? claim : undefined;
  }
}

/**
 * Where a batch stopped: the first step whose output is missing, from the vault alone. No cluster
 * manifest -> cluster (replay the ingest manifest); results missing -> remediate (replay the cluster
 * objects without a result); every result in but no reconcile manifest -> reconcile (replay one
 * result). `held` lists live claims on that work: a holder that may still be running, or that died
 * within its lease (kill -9); their deliveries would exit until the lease ends.
 */
export async function planReplay(store: ObjectStore, batch: string, now = new Date()): Promise<ReplayPlan> {
  if (await store.exists(keys.reconcileManifest(batch))) return { batch, step: 'done', replay: [], held: [] };
  if (!(await store.exists(keys.ingestManifest(batch)))) throw new BatchUnknownError(batch);
  const clusters = await findObject(store, vaultObjects.clusterManifest.at(batch));
  if (!clusters) return withHeld(store, { batch, step: 'cluster', replay: [keys.ingestManifest(batch)] }, [`${batch}/cluster`], now);
  if (clusters.clusters.length === 0)
    return withHeld(store, { batch, step: 'reconcile', replay: [keys.noClusters(batch)] }, [`${batch}/reconcile`], now);
  const present = await Promise.all(clusters.clusters.map((c) => store.exists(keys.clusterResult(batch, c.cluster))));
  const missing = clusters.clusters.filter((_, i) => !present[i]).map((c) => c.cluster);
  if (missing.length) {
    const scopes = missing.map((cluster) => `${batch}/remediate/${cluster}`);
    return withHeld(store, { batch, step: 'remediate', replay: missing.map((cluster) => keys.cluster(batch, cluster)) }, scopes, now);
  }
  const first = clusters.clusters[0]!.cluster;
  return withHeld(store, { batch, step: 'reconcile', replay: [keys.clusterResult(batch, first)] }, [`${batch}/reconcile`], now);
}

async function withHeld(
  store: ObjectStore,
  plan: { batch: string; step: 'cluster' | 'remediate' | 'reconcile'; replay: string[] },
  scopes: string[],
  now: Date,
): Promise<ReplayPlan> {
  const held = (await Promise.all(scopes.map((scope) => liveClaim(store, scope, now)))).filter((c): c is Claim => c !== undefined);
  return { ...plan, held };
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
