import { resolve } from 'node:path';

/**
 * The test stack runs beside a developer's own stack: its own state folder and ports, and a
 * one-hour lifetime after which every daemon dies even if teardown never ran.
 */
export const TEST_STACK_ENV: Record<string, string> = {
  STACK_DIR: resolve('.stack/test'),
  RGW_PORT: '17480',
  CEPH_MON_PORT: '13300',
  BRIDGE_PORT: '18787',
  OFFLINE_LAMBDA_PORT: '13002',
  OFFLINE_HTTP_PORT: '13000',
  STAGE: 'local',
  VAULT_BUCKET: 'vaultmend-test',
  STACK_MAX_LIFETIME_S: '3600',
  ALERT_WEBHOOK_URL: 'http://127.0.0.1:18999/alerts',
  // Small enough that a test file of a few hundred KB fans out into parts.
  INGEST_PART_BYTES: '65536',
  // Audit logs the tests write stay locked one day, not seven years.
  AUDIT_RETENTION_DAYS: '1',
  // The review page's token (the browser test opens the page with it).
  OPERATOR_TOKEN: 'test-operator-token-0123456789abcdef',
};

export const ALERT_SINK_PORT = 18999;
export const ALERTS_FILE = resolve('.stack/test/alerts.jsonl');

export function testStackEnv(): NodeJS.ProcessEnv {
  // A developer's backend choice is honoured (S3_BACKEND=external with S3_ENDPOINT, or MINIO_BIN); the rest is fixed for the tests.
  return { ...process.env, ...TEST_STACK_ENV };
}
