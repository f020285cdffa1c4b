import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ingestObject, type IngestDeps, type IngestOutcome } from '../lib/ingest/ingest-object.ts';
import { ingestPart, type PartOutcome } from '../lib/ingest/ingest-part.ts';
import { outcomeMetrics } from '../lib/ingest/outcome-metrics.ts';
import { ingestWithRetryBudget } from '../lib/ingest/retry-budget.ts';
import { PARTS_PREFIX, parsePartKey } from '../lib/keys.ts';
import { ingestRunEnds } from '../lib/lineage/ingest-lineage.ts';
import type { LineageRun } from '../lib/lineage/lineage-run.ts';
import { s3EventHandler } from './middleware/s3-event.ts';
import { traced } from './middleware/telemetry.ts';
import { alerts, config, logger, metrics, vault, vaultObjects } from './runtime.ts';

const deps: IngestDeps = {
  store: vault,
  alerts,
  workDir: config.WORK_DIR,
  engine: { memoryLimit: config.ENGINE_MEMORY_LIMIT, threads: config.ENGINE_THREADS },
  partBytes: config.INGEST_PART_BYTES,
  gzipLimits: { maxRatio: config.INGEST_GZIP_MAX_RATIO, maxBytes: config.INGEST_GZIP_MAX_BYTES },
  leaseMs: config.CLAIM_LEASE_S * 1000,
};

/** A part of a fanned-out file takes no claim of its own: it works in its batch's ingest run. */
function partRun(key: string): LineageRun | undefined {
  try {
    return { step: 'ingest', batch: parsePartKey(key).batch };
  } catch {
    return undefined; // ingestPart refuses the key itself
  }
}

/**
 * raw/<stream>/<file> uploaded -> contract check, bouncer, clean/suspect Parquet, manifest
 * (or, for a file too large for one invocation, a split into parts/); parts/... -> one part.
 * Bad input is recorded and returned, never thrown. Other failures throw, so the platform
 * retries them, until INGEST_MAX_ATTEMPTS of the same content set the object aside. Each batch's
 * run leaves OpenLineage events in lineage/<batch>/ (functions/middleware/telemetry.ts).
 */
export const handler = s3EventHandler(async (event): Promise<Array<IngestOutcome | PartOutcome>> => {
  const results: Array<IngestOutcome | PartOutcome> = [];
  for (const object of vaultObjects(event)) {
    const request = {
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      ...(object.eTag ? { eTag: object.eTag } : {}),
    };
    const part = object.key.startsWith(PARTS_PREFIX);
    const outcome = await traced<IngestOutcome | PartOutcome>(
      (store) =>
        part
          ? ingestWithRetryBudget({ ...deps, store }, request, config.INGEST_MAX_ATTEMPTS, ingestPart)
          : ingestWithRetryBudget({ ...deps, store }, request, config.INGEST_MAX_ATTEMPTS, ingestObject),
      (o) => ingestRunEnds(vault, config.VAULT_BUCKET, o),
      part ? partRun(object.key) : undefined,
    );
    // The manifest is in the vault; the log line carries the outcome without it.
    const { manifest: _manifest, ...fields } = { manifest: undefined, ...outcome, key: object.key };
    if (outcome.status === 'refused') logger.error('object refused', { ...fields, code: outcome.reason });
    else if (outcome.status === 'already-ingested' || outcome.status === 'part-already-ingested')
      logger.info('batch already ingested', fields);
    else if (outcome.status === 'claimed-elsewhere') logger.info('batch is ingested by another delivery: skipped', fields);
    else if (outcome.status === 'waiting') logger.warn('file waiting: stream halted', fields);
    else if (outcome.status === 'quarantined') logger.warn('object quarantined', { ...fields, reason: outcome.manifest.rejected?.reason });
    else if (outcome.status === 'ingested')
      logger.info('batch ingested', { ...fields, rows: outcome.manifest.rows, timings_ms: outcome.manifest.timings_ms });
    else logger.info(outcome.status === 'fanned-out' ? 'batch fanned out into parts' : 'part ingested', fields);
    for (const point of outcomeMetrics(outcome)) {
      const metric = metrics.singleMetric();
      metric.addDimensions(point.dimensions);
      metric.addMetric(point.name, MetricUnit.Count, point.value);
    }
    results.push(outcome);
  }
  return results;
});
