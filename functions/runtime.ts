import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { LogAlertSink, WebhookAlertSink, type AlertSink } from '../lib/alerts/alerts.ts';
import { loadRuntimeConfig, type RuntimeConfig } from '../lib/config.ts';
import { objectCreatedEvents, type ObjectCreated, type StoreS3Event } from '../lib/events/s3-event.ts';
import { LineageEmitter } from '../lib/lineage/lineage-emitter.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { S3ObjectStore, storeEncryption } from '../lib/store/s3-object-store.ts';

/**
 * What every handler shares, built once per Lambda container (module scope) and reused
 * across invocations: validated configuration, the structured logger, the vault store, the
 * lineage emitter and the alert sink.
 */
export const config: RuntimeConfig = loadRuntimeConfig();
export const logger = new Logger({ serviceName: 'vaultmend', logLevel: config.LOG_LEVEL });
/** CloudWatch embedded-metric-format lines on stdout (namespace `vaultmend`). */
export const metrics = new Metrics({ namespace: 'vaultmend', serviceName: 'vaultmend' });
export const vault = new S3ObjectStore(makeS3Client(config), config.VAULT_BUCKET, storeEncryption(config));
/**
 * The lineage of every step (lib/lineage): OpenLineage run events in the vault, and POSTed to
 * OPENLINEAGE_URL when it is set. A failed write or POST is logged and counted
 * (`LineageWriteFailed` / `LineagePostFailed`), never thrown.
 */
export const lineage = new LineageEmitter({
  store: vault,
  endpoint: config.OPENLINEAGE_URL,
  allowHosts: config.OPENLINEAGE_ALLOW_HOSTS,
  report: (problem) => {
    logger.warn(problem.kind === 'post-failed' ? 'lineage event not posted (kept in the vault)' : 'lineage event not written', {
      ...problem,
    });
    const metric = metrics.singleMetric();
    metric.addMetric(problem.kind === 'post-failed' ? 'LineagePostFailed' : 'LineageWriteFailed', MetricUnit.Count, 1);
  },
});
export const alerts: AlertSink = config.ALERT_WEBHOOK_URL
  ? new WebhookAlertSink(config.ALERT_WEBHOOK_URL, (message) => logger.warn(message))
  : new LogAlertSink((alert) => logger.warn('alert (no ALERT_WEBHOOK_URL configured)', { alert }));

/** The created objects an event names in the vault bucket; objects of any other bucket are logged and skipped. */
export function vaultObjects(event: StoreS3Event): ObjectCreated[] {
  return objectCreatedEvents(event).filter((object) => {
    if (object.bucket === config.VAULT_BUCKET) return true;
    logger.warn('event for another bucket ignored', { bucket: object.bucket, key: object.key });
    return false;
  });
}
