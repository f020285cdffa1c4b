import { contractOfBatch } from '../contract/batch-contract.ts';
import { keys, streamOfBatch } from '../keys.ts';
import { claimScopes, DEFAULT_LEASE_MS, withClaim } from '../vault/claims.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import { vaultObjects } from '../vault/objects.ts';
import type { ReconcileManifest } from '../vault/reconcile-manifest.ts';
import { batchRevisions, type Revisions } from '../vault/revisions.ts';
import { findObject, putObjectIfAbsent, readObject } from '../vault/vault-object.ts';
import { batchReadiness } from './batch-readiness.ts';
import { reconcileRound, type ReconcileDeps } from './reconcile-batch.ts';
import type { Round } from './round.ts';
import { faultPoint } from '../faults/fault-point.ts';

/** What one delivery of a reviewed result did. */
export type RevisionDelivery =
  | { status: 'revised' | 'up-to-date'; batch: string; revision: number; manifest: ReconcileManifest }
  | { status: 'not-reconciled'; batch: string }
  | { status: 'claimed-elsewhere'; batch: string; revision: number; holder: string; lease_until: string };

/**
 * reconcile, after people's decisions (`reviewed/<batch>/<cluster>.json`): the batch is reconciled
 * again as revision n + 1 with every reviewed cluster's result in place of the tiers' one. The
 * ledger, the gates and the report cover the whole batch again; the audit lines of the rows the
 * newly reviewed clusters touch go into a further audit object, chained to the root of the one
 * before and locked like it (the first is never touched); the rows no earlier curated part holds
 * go into a curated part of their own. Once only: each revision is claimed, and its manifest is
 * written first-writer-wins. A decision that lands while a revision runs is taken by the next
 * one, which the holder starts itself when it finds it (so no decision waits for a delivery).
 *
 * @example
 * const outcome = await reviseBatch(deps, 'orders-0123456789abcdef0123');
 */
export async function reviseBatch(deps: ReconcileDeps, batch: string, leaseMs = DEFAULT_LEASE_MS): Promise<RevisionDelivery> {
  let revised: RevisionDelivery | undefined;
  for (;;) {
    const revisions = await batchRevisions(deps.store, batch);
    if (!revisions) return { status: 'not-reconciled', batch };
    const reviewed = await reviewedClusters(deps, batch);
    const covered = new Set(revisions.latest.reviewed ?? []);
    const fresh = reviewed.filter((c) => !covered.has(c));
    if (fresh.length === 0) return revised ?? { status: 'up-to-date', batch, revision: revisions.revision, manifest: revisions.latest };
    const next = revisions.revision + 1;
    const claimed = await withClaim(deps.store, claimScopes.revision(batch, next), { leaseMs }, () =>
      reviseOnce(deps, batch, revisions, reviewed, fresh),
    );
    if (!claimed.held)
      return { status: 'claimed-elsewhere', batch, revision: next, holder: claimed.by.holder, lease_until: claimed.by.lease_until };
    revised = { status: 'revised', batch, revision: next, manifest: claimed.value };
  }
}

/** The clusters of the batch whose reviewed result is in (found by HEAD over the cluster manifest, not by listing). */
async function reviewedClusters(deps: ReconcileDeps, batch: string): Promise<string[]> {
  const clusters = await readObject(deps.store, vaultObjects.clusterManifest.at(batch));
  const present = await Promise.all(clusters.clusters.map((c) => deps.store.exists(keys.reviewedResult(batch, c.cluster))));
  return clusters.clusters.filter((_, i) => present[i]).map((c) => c.cluster);
}

/** Revision n + 1 with the reviewed clusters `reviewed` (of which `fresh` are new); a holder after a dead one finds it written. */
async function reviseOnce(
  deps: ReconcileDeps,
  batch: string,
  previous: Revisions,
  reviewed: string[],
  fresh: string[],
): Promise<ReconcileManifest> {
  const revision = previous.revision + 1;
  faultPoint('revise:after-claim');
  const written = await findObject(deps.store, vaultObjects.revisionManifest.at(batch, revision));
  if (written) return written;
  const ready = await batchReadiness(deps.store, batch);
  if (ready.status !== 'ready') throw new Error(`batch ${batch} was reconciled but its results are not all there (${ready.status})`);
  const stream = streamOfBatch(batch);
  const contract = await contractOfBatch(deps.store, stream, ready.ingest.contract);
  // The input set is fixed by the first holder: one that takes over after it died reconciles the same
  // clusters with the same stamp (a decision landed meanwhile waits for the next revision).
  const plan = await planRevision(deps, batch, revision, reviewed, fresh);
  const replaced = new Map<string, ClusterResult>();
  for (const c of plan.reviewed) replaced.set(c, await readObject(deps.store, vaultObjects.reviewedResult.at(batch, c)));
  const results = ready.results.map((r) => replaced.get(r.cluster) ?? r);
  const specs = await Promise.all(plan.fresh.map((c) => readObject(deps.store, vaultObjects.cluster.at(batch, c))));
  const last = previous.latest;
  const chain = last.audit_chain ?? (last.audit ? [last.audit] : []);
  const parts = last.curated_parts ?? (last.curated ? [last.curated] : []);
  const round: Round = {
    revision,
    auditKey: keys.auditRevision(stream, batch, revision),
    ...(chain.length ? { chainedTo: chain.at(-1)!.root_hash } : {}),
    touched: specs.map((s) => s.cells_object),
    curatedKey: keys.curatedPart(stream, batch, revision),
    promotedParts: parts,
  };
  const stamp = plan.stamp;
  return reconcileRound(deps, {
    batch,
    stamp,
    contract,
    ingest: ready.ingest,
    clusters: ready.clusters,
    results,
    round,
    shape: (m) => ({
      ...m,
      revision,
      reviewed: plan.reviewed,
      curated_parts: [...parts, ...(m.curated ? [m.curated] : [])],
      audit_chain: [...chain, ...(m.audit ? [m.audit] : [])],
    }),
    commit: async (m) => {
      await putObjectIfAbsent(deps.store, vaultObjects.revisionManifest.at(batch, revision), m);
    },
  });
}

/**
 * Revision n's input set, written first-writer-wins at `manifests/<batch>/reconcile.r<n>.plan.json`:
 * the reviewed clusters, the ones new in it, and the stamp (the newest of their decisions, so a
 * retry writes the same bytes). Every holder of revision n reconciles what the first one planned.
 */
async function planRevision(deps: ReconcileDeps, batch: string, revision: number, reviewed: string[], fresh: string[]) {
  const decided = await Promise.all(reviewed.map((c) => readObject(deps.store, vaultObjects.reviewedResult.at(batch, c))));
  const stamp = decided
    .map((r) => r.decided_at)
    .sort()
    .at(-1)!;
  return (await putObjectIfAbsent(deps.store, vaultObjects.revisionPlan.at(batch, revision), { revision, reviewed, fresh, stamp })).value;
}
