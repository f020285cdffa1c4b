import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { batchReadiness } from '../reconcile/batch-readiness.ts';
import { type Claim, claimScopes, liveClaim, releaseClaim } from '../vault/claims.ts';
import { vaultObjects } from '../vault/objects.ts';
import { batchRevisions } from '../vault/revisions.ts';
import { findObject } from '../vault/vault-object.ts';

/** The step a half-done batch is re-driven from, and the objects whose replay notifies it. */
export type ReplayPlan =
  | { batch: string; step: 'done'; replay: []; held: [] }
  | { batch: string; step: 'cluster' | 'remediate' | 'reconcile' | 'review' | 'revise'; replay: string[]; held: Claim[] };

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
 * result in but no reconcile manifest -> reconcile (replay one result, or `none.json`); after
 * reconcile, a decision not applied -> review, reviewed results no revision covers -> revise. `held`
 * lists live claims on that work: a holder that may still be running, or that died within its
 * lease (kill -9); their deliveries would exit until the lease ends.
 */
export async function planReplay(store: ObjectStore, batch: string, now = new Date()): Promise<ReplayPlan> {
  const held = async (scopes: string[]) =>
    (await Promise.all(scopes.map((scope) => liveClaim(store, scope, now)))).filter((c) => c !== undefined);
  if (await store.exists(keys.reconcileManifest(batch))) return planAfterReconcile(store, batch, held);
  if (!(await store.exists(keys.ingestManifest(batch)))) throw new BatchUnknownError(batch);
  const readiness = await batchReadiness(store, batch);
  if (readiness.status === 'not-clustered') {
    return { batch, step: 'cluster', replay: [keys.ingestManifest(batch)], held: await held([claimScopes.cluster(batch)]) };
  }
  if (readiness.status === 'waiting') {
    // A cluster step that died mid fan-out left the manifest but not every cluster object: cluster again (it writes only what is missing).
    const objects = await Promise.all(readiness.missing.map((cluster) => store.exists(keys.cluster(batch, cluster))));
    if (objects.some((present) => !present))
      return { batch, step: 'cluster', replay: [keys.ingestManifest(batch)], held: await held([claimScopes.cluster(batch)]) };
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
 * A reconciled batch may still be half-done after people's decisions: a decision whose cluster was
 * not re-remediated (`review`: replay the decision), or reviewed results no revision covers yet
 * (`revise`: replay one of them).
 */
async function planAfterReconcile(store: ObjectStore, batch: string, held: (scopes: string[]) => Promise<Claim[]>): Promise<ReplayPlan> {
  const revisions = await batchRevisions(store, batch);
  const clusters = await findObject(store, vaultObjects.clusterManifest.at(batch));
  const covered = new Set(revisions?.latest.reviewed ?? []);
  const decided: string[] = [];
  const unreviewed: string[] = [];
  for (const { cluster } of clusters?.clusters ?? []) {
    const review = await findObject(store, vaultObjects.review.at(batch, cluster));
    if (!review?.function) continue;
    if (await store.exists(keys.reviewedResult(batch, cluster))) decided.push(cluster);
    else unreviewed.push(cluster);
  }
  if (unreviewed.length)
    return {
      batch,
      step: 'review',
      replay: unreviewed.map((c) => keys.review(batch, c)),
      held: await held(unreviewed.map((c) => claimScopes.review(batch, c))),
    };
  const fresh = decided.filter((c) => !covered.has(c));
  if (fresh.length === 0) return { batch, step: 'done', replay: [], held: [] };
  const next = (revisions?.revision ?? 0) + 1;
  return { batch, step: 'revise', replay: [keys.reviewedResult(batch, fresh[0]!)], held: await held([claimScopes.revision(batch, next)]) };
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
