import { VaultKeyStore } from '../lib/audit/data-keys.ts';
import { UnsafeKeyError } from '../lib/errors.ts';
import { parseResultKey, parseReviewedKey } from '../lib/keys.ts';
import { reconcileRunEnds } from '../lib/lineage/reconcile-lineage.ts';
import type { RunEnds } from '../lib/lineage/trace-step.ts';
import type { ReconcileDeps } from '../lib/reconcile/reconcile-batch.ts';
import { reconcileOnce, type ReconcileDelivery } from '../lib/reconcile/reconcile-once.ts';
import { reviseBatch, type RevisionDelivery } from '../lib/reconcile/revise-batch.ts';
import { s3EventHandler } from './middleware/s3-event.ts';
import { traced } from './middleware/telemetry.ts';
import { alerts, config, logger, vault, vaultObjects } from './runtime.ts';

const deps: ReconcileDeps = {
  store: vault,
  alerts,
  keys: new VaultKeyStore(vault),
  workDir: config.WORK_DIR,
  engine: { memoryLimit: config.ENGINE_MEMORY_LIMIT, threads: config.ENGINE_THREADS },
  auditRetentionDays: config.AUDIT_RETENTION_DAYS,
};

/** The runs a reconcile or revision outcome ends (lib/lineage/reconcile-lineage.ts). */
const runEnds: RunEnds<ReconcileDelivery | RevisionDelivery> = (o, started) => reconcileRunEnds(vault, config.VAULT_BUCKET, o, started);

/** reviewed/<batch>/<cluster>.json written (a cluster re-remediated with a person's decision) -> the batch's next revision. */
async function revise(key: string): Promise<RevisionDelivery> {
  const { batch } = parseReviewedKey(key);
  const outcome = await traced(
    (store) => reviseBatch({ ...deps, store }, batch, config.CLAIM_LEASE_S * 1000),
    runEnds,
    undefined,
    // A revision whose manifest stands completed, even when a later one of this delivery threw.
    (started) => reconcileRunEnds(vault, config.VAULT_BUCKET, { status: 'failed', batch }, started),
  );
  if (outcome.status === 'revised' || outcome.status === 'up-to-date') {
    const m = outcome.manifest;
    logger.info(`batch ${outcome.status}`, { batch, revision: outcome.revision, status: m.status, rows: m.rows, curated: m.curated });
  } else logger.info(`batch revision: ${outcome.status}`, { ...outcome });
  return outcome;
}

/**
 * results/<batch>/<cluster>.json (or none.json) written -> when it was the batch's last
 * result, the batch is reconciled: row-id proof, promotion gates, curated rows, the locked
 * audit, the report. Earlier results find the batch still waiting and say which clusters.
 * Of many deliveries at once, one reconciles (a claim). A data loss throws DataLossError after the alert (the invocation fails loudly).
 */
export const handler = s3EventHandler(async (event): Promise<(ReconcileDelivery | RevisionDelivery)[]> => {
  const outcomes: (ReconcileDelivery | RevisionDelivery)[] = [];
  for (const object of vaultObjects(event)) {
    if (object.key.startsWith('reviewed/')) {
      outcomes.push(await revise(object.key));
      continue;
    }
    let batch: string;
    try {
      ({ batch } = parseResultKey(object.key));
    } catch (error) {
      if (!(error instanceof UnsafeKeyError)) throw error;
      logger.info('not a cluster result: skipped', { key: object.key });
      continue;
    }
    const outcome = await traced((store) => reconcileOnce({ ...deps, store }, batch, config.CLAIM_LEASE_S * 1000), runEnds);
    if (outcome.status === 'waiting') logger.info('batch waits for cluster results', { batch, missing: outcome.missing });
    else if (outcome.status === 'reconciled') {
      const m = outcome.manifest;
      logger.info('batch reconciled', { batch, status: m.status, rows: m.rows, audit_root: m.audit?.root_hash, curated: m.curated });
    } else if (outcome.status === 'claimed-elsewhere') {
      logger.info('batch is reconciled by another delivery: skipped', { batch, holder: outcome.holder, lease_until: outcome.lease_until });
    } else logger.info(`batch ${outcome.status}`, { batch });
    outcomes.push(outcome);
  }
  return outcomes;
});
