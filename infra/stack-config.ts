import { resolve } from 'node:path';
import { z } from 'zod';
import { parseEnv } from '../lib/config.ts';

/** Settings of the local stack (infra only). Defaults suit one developer machine. */
const port = z.coerce.number().int().min(1).max(65535);

const StackSchema = z.object({
  STACK_DIR: z.string().min(1).default('.stack'),
  /** Which S3 server to bring up: derived from MINIO_BIN / S3_ENDPOINT when unset. */
  S3_BACKEND: z.enum(['rgw', 'minio', 'external']).optional(),
  /** For an external endpoint: how it delivers upload notifications. */
  S3_FLAVOR: z.enum(['rgw', 'minio']).default('rgw'),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).default('vaultmend'),
  S3_SECRET_ACCESS_KEY: z.string().min(8).default('vaultmend-local-secret'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  VAULT_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name').default('vaultmend-vault'),
  MINIO_BIN: z.string().min(1).optional(),
  RGW_PORT: port.default(7480),
  CEPH_MON_PORT: port.default(3300),
  MINIO_PORT: port.default(9000),
  BRIDGE_PORT: port.default(8787),
  OFFLINE_LAMBDA_PORT: port.default(3002),
  OFFLINE_HTTP_PORT: port.default(3000),
  STAGE: z.string().regex(/^[a-z0-9-]+$/).default('local'),
  STACK_READY_TIMEOUT_S: z.coerce.number().int().min(5).max(1800).default(180),
  /** Every daemon is killed after this long even if `stack down` never runs. */
  STACK_MAX_LIFETIME_S: z.coerce.number().int().min(60).default(4 * 3600),
  /** Passed on to the functions (see lib/config.ts). */
  ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  INGEST_PART_BYTES: z.coerce.number().int().min(1024).optional(),
});

/** Cross-variable rules: a backend needs its own variables. */
const CheckedStackSchema = StackSchema.superRefine((raw, ctx) => {
  if (raw.S3_BACKEND === 'external' && !raw.S3_ENDPOINT) {
    ctx.addIssue({ code: 'custom', path: ['S3_ENDPOINT'], message: 'required when S3_BACKEND=external' });
  }
  if (raw.S3_BACKEND === 'minio' && !raw.MINIO_BIN) {
    ctx.addIssue({ code: 'custom', path: ['MINIO_BIN'], message: 'required when S3_BACKEND=minio' });
  }
});

export type StackConfig = Omit<z.infer<typeof StackSchema>, 'S3_BACKEND' | 'S3_ENDPOINT'> & {
  S3_BACKEND: 'rgw' | 'minio' | 'external';
  S3_ENDPOINT: string;
};

export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const raw = parseEnv(CheckedStackSchema, env);
  const backend = raw.S3_BACKEND ?? (raw.S3_ENDPOINT ? 'external' : raw.MINIO_BIN ? 'minio' : 'rgw');
  const local = `http://127.0.0.1:${backend === 'minio' ? raw.MINIO_PORT : raw.RGW_PORT}`;
  const endpoint = backend === 'external' && raw.S3_ENDPOINT ? raw.S3_ENDPOINT : local;
  return { ...raw, S3_BACKEND: backend, S3_ENDPOINT: endpoint, STACK_DIR: resolve(raw.STACK_DIR) };
}

/** The environment the functions (serverless-offline) and the tests see, derived from the stack. */
export function functionEnv(config: StackConfig): Record<string, string> {
  return {
    S3_ENDPOINT: config.S3_ENDPOINT,
    S3_REGION: config.S3_REGION,
    S3_ACCESS_KEY_ID: config.S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY: config.S3_SECRET_ACCESS_KEY,
    VAULT_BUCKET: config.VAULT_BUCKET,
    ...(config.ALERT_WEBHOOK_URL ? { ALERT_WEBHOOK_URL: config.ALERT_WEBHOOK_URL } : {}),
    ...(config.INGEST_PART_BYTES ? { INGEST_PART_BYTES: String(config.INGEST_PART_BYTES) } : {}),
  };
}
