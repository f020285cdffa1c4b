import { UnsafeKeyError } from '../lib/errors.ts';
import { parseClusterKey } from '../lib/keys.ts';
import { remediateRunEnds } from '../lib/lineage/remediate-lineage.ts';
import { modelFromConfig } from '../lib/remediate/model/model-from-config.ts';
import { remediateCluster, type RemediateDeps, type RemediateOutcome } from '../lib/remediate/remediate-cluster.ts';
import { remediateReviewed, type ReviewedOutcome } from '../lib/remediate/remediate-reviewed.ts';
import { Sandbox } from '../lib/remediate/sandbox.ts';
import { s3EventHandler } from './middleware/s3-event.ts';
import { traced } from './middleware/telemetry.ts';
import { config, logger, vault, vaultObjects } from './runtime.ts';

/** Built once per container: the sandbox process and the model's circuit breaker live as long as it. */
let deps: RemediateDeps | undefined;
const remediateDeps = (): RemediateDeps =>
  (deps ??= {
    store: vault,
    workDir: config.WORK_DIR,
    engine: { memoryLimit: config.ENGINE_MEMORY_LIMIT, threads: config.ENGINE_THREADS },
    sandbox: new Sandbox({ timeoutMs: config.SANDBOX_TIMEOUT_MS, memoryMb: config.SANDBOX_MEMORY_MB }),
    threshold: config.REMEDIATE_CONFIDENCE_THRESHOLD,
    leaseMs: config.CLAIM_LEASE_S * 1000,
    model: modelFromConfig(config),
    notice: (message, fields) => logger.warn(message, fields),
  });

// In a function container (Lambda, serverless-offline) the sandbox process starts with the container's
// init, so a cold invocation does not wait for it; a test importing the handler starts none.
if (process.env['AWS_LAMBDA_FUNCTION_NAME']) remediateDeps().sandbox.prestart();

/** reviews/<batch>/<cluster>.json written (a person's decision) -> the cluster re-remediated with it (see remediateReviewed). */
async function reviewed(key: string): Promise<ReviewedOutcome> {
  const outcome = await traced(
    (store) => remediateReviewed({ ...remediateDeps(), store }, key),
    (o) => remediateRunEnds(config.VAULT_BUCKET, o),
  );
  if (outcome.status === 'reviewed' || outcome.status === 'already-reviewed') {
    const { result } = outcome;
    logger.info(outcome.status === 'reviewed' ? 'reviewed cluster re-remediated' : 'reviewed cluster already re-remediated', {
      batch: result.batch,
      cluster: result.cluster,
      disposition: result.disposition,
      counts: result.counts,
    });
  } else logger.info(`review decision: ${outcome.status}`, { ...outcome });
  return outcome;
}

/**
 * work/<batch>/clusters/<cluster>.json written -> a verified transformation function applied
 * to the cluster: staged and quarantined cells, audit rows, and results/<batch>/<cluster>.json
 * (which triggers reconcile). Other objects under work/ are not clusters and are skipped.
 */
export const handler = s3EventHandler(async (event): Promise<(RemediateOutcome | ReviewedOutcome)[]> => {
  const outcomes: (RemediateOutcome | ReviewedOutcome)[] = [];
  for (const object of vaultObjects(event)) {
    if (object.key.startsWith('reviews/')) {
      outcomes.push(await reviewed(object.key));
      continue;
    }
    try {
      parseClusterKey(object.key);
    } catch (error) {
      if (!(error instanceof UnsafeKeyError)) throw error;
      logger.info('not a cluster object: skipped', { key: object.key });
      continue;
    }
    const outcome = await traced(
      (store) => remediateCluster({ ...remediateDeps(), store }, object.key),
      (o) => remediateRunEnds(config.VAULT_BUCKET, o),
    );
    outcomes.push(outcome);
    if (outcome.status === 'claimed-elsewhere') {
      logger.info('cluster claimed by another delivery: skipped', {
        batch: outcome.batch,
        cluster: outcome.cluster,
        holder: outcome.holder,
        lease_until: outcome.lease_until,
      });
      continue;
    }
    const { result } = outcome;
    logger.info(outcome.status === 'remediated' ? 'cluster remediated' : 'cluster already remediated', {
      batch: result.batch,
      cluster: result.cluster,
      column: result.column,
      rule: result.rule,
      disposition: result.disposition,
      tier: result.tier,
      confidence: result.confidence,
      model_calls: result.model_calls,
      counts: result.counts,
    });
  }
  return outcomes;
});
