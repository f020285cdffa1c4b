import { VaultKeyStore } from '../lib/audit/data-keys.ts';
import { UnsafeKeyError } from '../lib/errors.ts';
import { parseResultKey } from '../lib/keys.ts';
import type { ReconcileDeps } from '../lib/reconcile/reconcile-batch.ts';
import { reconcileOnce, type ReconcileDelivery } from '../lib/reconcile/reconcile-once.ts';
import { s3EventHandler } from './middleware/s3-event.ts';
import { alerts, config, logger, vault, vaultObjects } from './runtime.ts';

const deps: ReconcileDeps = {
  store: vault,
  alerts,
  keys: new VaultKeyStore(vault),
  workDir: config.WORK_DIR,
  engine: { memoryLimit: config.ENGINE_MEMORY_LIMIT, threads: config.ENGINE_THREADS },
  auditRetentionDays: config.AUDIT_RETENTION_DAYS,
};

/**
 * results/<batch>/<cluster>.json (or none.json) written -> when it was the batch's last
 * result, the batch is reconciled: row-id proof, promotion gates, curated rows, the locked
 * audit, the report. Earlier results find the batch still waiting and say which clusters.
 * Of many deliveries at once, one reconciles (a claim). A data loss throws DataLossError after the alert (the invocation fails loudly).
 */
export const handler = s3EventHandler(async (event): Promise<ReconcileDelivery[]> => {
  const outcomes: ReconcileDelivery[] = [];
  for (const object of vaultObjects(event)) {
    let batch: string;
    try {
      ({ batch } = parseResultKey(object.key));
    } catch (error) {
      if (!(error instanceof UnsafeKeyError)) throw error;
      logger.info('not a cluster result: skipped', { key: object.key });
      continue;
    }
    const outcome = await reconcileOnce(deps, batch, config.CLAIM_LEASE_S * 1000);
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
