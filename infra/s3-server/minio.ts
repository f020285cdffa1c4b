import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MINIO_WEBHOOK_ID, bridgeUrl } from '../notifications.ts';
import { ProcessTable, waitFor } from '../process.ts';
import type { StackConfig } from '../stack-config.ts';

/**
 * An official MinIO server binary that the user points MINIO_BIN at (none is installed by
 * vaultmend: Debian has none, and the only npm copy is of unknown provenance). Its webhook
 * target is the event bridge, with an on-disk queue for deliveries made while it is down.
 */
export async function startMinio(config: StackConfig, processes: ProcessTable, log: (line: string) => void): Promise<void> {
  const dir = join(config.STACK_DIR, 'minio');
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'queue'), { recursive: true });
  const id = MINIO_WEBHOOK_ID;
  log(`minio: starting ${config.MINIO_BIN}`);
  processes.start({
    name: 'minio',
    command: config.MINIO_BIN!,
    args: ['server', join(dir, 'data'), '--address', `127.0.0.1:${config.MINIO_PORT}`, '--console-address', '127.0.0.1:0'],
    env: {
      ...process.env,
      MINIO_ROOT_USER: config.S3_ACCESS_KEY_ID,
      MINIO_ROOT_PASSWORD: config.S3_SECRET_ACCESS_KEY,
      MINIO_REGION: config.S3_REGION,
      [`MINIO_NOTIFY_WEBHOOK_ENABLE_${id}`]: 'on',
      [`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${id}`]: bridgeUrl(config),
      [`MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_${id}`]: join(dir, 'queue'),
    },
  });
  const health = `${config.S3_ENDPOINT}/minio/health/live`;
  await waitFor(
    `MinIO at ${health}`,
    async () => (await fetch(health, { signal: AbortSignal.timeout(2000) })).ok,
    config.STACK_READY_TIMEOUT_S * 1000,
    `see ${processes.logFile('minio')}`,
  );
}
