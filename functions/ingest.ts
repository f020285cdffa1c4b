import { objectCreatedEvents } from '../lib/events/s3-event.ts';
import type { IngestDeps, IngestOutcome } from '../lib/ingest/ingest-object.ts';
import { ingestWithRetryBudget } from '../lib/ingest/retry-budget.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { outcomeMetrics } from '../lib/ingest/outcome-metrics.ts';
import { s3EventHandler } from './middleware/s3-event.ts';
import { alerts, config, logger, metrics, vault } from './runtime.ts';

const deps: IngestDeps = {
  store: vault,
  alerts,
  workDir: config.WORK_DIR,
  engine: { memoryLimit: config.ENGINE_MEMORY_LIMIT, threads: config.ENGINE_THREADS },
};

/**
 * raw/<stream>/<file> uploaded -> contract check, bouncer, clean/suspect Parquet, manifest.
 * Bad input is recorded and returned, never thrown. Other failures throw, so the platform
 * retries them, until INGEST_MAX_ATTEMPTS of the same content set the object aside.
 */
export const handler = s3EventHandler(async (event): Promise<IngestOutcome[]> => {
  const results: IngestOutcome[] = [];
  for (const object of objectCreatedEvents(event)) {
    if (object.bucket !== config.VAULT_BUCKET) {
      logger.warn('event for another bucket ignored', { bucket: object.bucket, key: object.key });
      continue;
    }
    const request = {
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      ...(object.eTag ? { eTag: object.eTag } : {}),
    };
    const outcome = await ingestWithRetryBudget(deps, request, config.INGEST_MAX_ATTEMPTS);
    const fields = { key: object.key, ...outcome };
    if ('manifest' in fields) delete (fields as { manifest?: unknown }).manifest;
    if (outcome.status === 'refused') logger.error('object refused', { ...fields, code: outcome.reason });
    else if (outcome.status === 'already-ingested') logger.info('batch already ingested', fields);
    else if (outcome.status === 'waiting') logger.warn('file waiting: stream halted', fields);
    else if (outcome.status === 'quarantined') logger.warn('object quarantined', { ...fields, reason: outcome.manifest.rejected?.reason, rows: outcome.manifest.rows });
    else logger.info('batch ingested', { ...fields, rows: outcome.manifest.rows, timings_ms: outcome.manifest.timings_ms });
    for (const point of outcomeMetrics(outcome)) {
      const metric = metrics.singleMetric();
      metric.addDimensions(point.dimensions);
      metric.addMetric(point.name, MetricUnit.Count, point.value);
    }
    results.push(outcome);
  }
  return results;
});
