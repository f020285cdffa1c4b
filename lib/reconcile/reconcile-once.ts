import { keys } from '../keys.ts';
import { claimScopes, DEFAULT_LEASE_MS, withClaim } from '../vault/claims.ts';
import { batchReadiness, type Ready } from './batch-readiness.ts';
import { reconcileBatch, type ReconcileDeps, type ReconcileOutcome } from './reconcile-batch.ts';
import { faultPoint } from '../faults/fault-point.ts';

/** What one delivery of a result did: the reconcile outcome, or found another delivery reconciling the batch. */
export type ReconcileDelivery = ReconcileOutcome | { status: 'claimed-elsewhere'; batch: string; holder: string; lease_until: string };

/**
 * A batch is reconciled once, however many of its results land at the same moment and however
 * often each is delivered: once every result is in, the deliveries race for the claim
 * `<batch>/reconcile` (first writer wins) and only its holder reconciles; the others exit. A
 * batch still waiting takes no claim, so the delivery of its last result can. A holder that
 * died is taken over after `leaseMs`; its outputs are deterministic, so the taker writes the
 * same bytes, and the audit, locked at its first write, is never written twice.
 *
 * @example
 * const outcome = await reconcileOnce(deps, batch, 360_000);
 * if (outcome.status === 'claimed-elsewhere') logger.info('another delivery reconciles', outcome);
 */
export async function reconcileOnce(deps: ReconcileDeps, batch: string, leaseMs = DEFAULT_LEASE_MS): Promise<ReconcileDelivery> {
  let ready: Ready | undefined;
  if (!(await deps.store.exists(keys.reconcileManifest(batch)))) {
    const readiness = await batchReadiness(deps.store, batch);
    if (readiness.status === 'not-clustered') return { status: 'not-clustered', batch };
    if (readiness.status === 'waiting') return { status: 'waiting', batch, missing: readiness.missing };
    // Results are only ever added: a batch found ready stays ready, so the holder need not look again.
    ready = readiness;
  }
  const claimed = await withClaim(deps.store, claimScopes.reconcile(batch), { leaseMs }, () => {
    faultPoint('reconcile:after-claim');
    return reconcileBatch(deps, batch, ready);
  });
  if (!claimed.held) return { status: 'claimed-elsewhere', batch, holder: claimed.by.holder, lease_until: claimed.by.lease_until };
  return claimed.value;
}
