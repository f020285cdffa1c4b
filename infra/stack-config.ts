import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseEnv } from '../lib/config.ts';
import { ConfigError } from '../lib/errors.ts';

/** Settings of the local stack (infra only). Defaults suit one developer machine. */
const port = z.coerce.number().int().min(1).max(65535);

/** The supervisor's settings (infra/supervisor.ts): `stack up` checks them, the supervisor reads them. */
export const SupervisorSchema = z.object({
  /** `0`: no supervisor is started (a dead component stays dead). */
  SUPERVISOR: z.enum(['0', '1']).default('1'),
  /** How often each component's pid is checked. */
  SUPERVISOR_INTERVAL_S: z.coerce.number().min(0.1).max(3600).default(5),
  /** Restarts of one component within SUPERVISOR_WINDOW_S after which the supervisor gives up on it. */
  SUPERVISOR_MAX_RESTARTS: z.coerce.number().int().min(1).max(10_000).default(5),
  SUPERVISOR_WINDOW_S: z.coerce.number().int().min(1).default(600),
  /** The second restart of a component within the window waits this long after the first, each further one twice as long (at most 60 s). */
  SUPERVISOR_BACKOFF_S: z.coerce.number().min(0).max(60).default(2),
  /** After a restart, how long a probe upload's notification may take before radosgw is restarted (its data is kept). */
  SUPERVISOR_PROBE_TIMEOUT_S: z.coerce.number().int().min(1).max(600).default(15),
  /** How often the supervisor invokes the `sweep` function (the local stand-in for its schedule on AWS); 0: never. */
  SWEEP_INTERVAL_S: z.coerce.number().int().min(0).default(300),
});
export type SupervisorConfig = z.infer<typeof SupervisorSchema>;

const StackSchema = SupervisorSchema.extend({
  STACK_DIR: z.string().min(1).default('.stack'),
  /** The review page's token; unset, `stack up` makes one and records it in the state file (mode 0600). */
  OPERATOR_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional()),
  /**
   * Which S3 server to bring up: `rgw` (the default), `minio` (the default when MINIO_BIN is set),
   * or `external`: no server is started, the stack uses the store at S3_ENDPOINT. An external store
   * is only ever used when asked for by name: S3_ENDPOINT alone is refused (it is also the CLI's and
   * the functions' variable, so its presence in a shell says nothing about what `stack up` should do).
   */
  S3_BACKEND: z.enum(['rgw', 'minio', 'external']).optional(),
  /** For an external endpoint: how it delivers upload notifications. */
  S3_FLAVOR: z.enum(['rgw', 'minio']).default('rgw'),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).default('vaultmend'),
  S3_SECRET_ACCESS_KEY: z.string().min(8).default('vaultmend-local-secret'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  VAULT_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('vaultmend-vault'),
  MINIO_BIN: z.string().min(1).optional(),
  RGW_PORT: port.default(7480),
  CEPH_MON_PORT: port.default(3300),
  MINIO_PORT: port.default(9000),
  BRIDGE_PORT: port.default(8787),
  OFFLINE_LAMBDA_PORT: port.default(3002),
  OFFLINE_HTTP_PORT: port.default(3000),
  STAGE: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('local'),
  STACK_READY_TIMEOUT_S: z.coerce.number().int().min(5).max(1800).default(180),
  /** Every daemon is killed after this long even if `stack down` never runs. */
  STACK_MAX_LIFETIME_S: z.coerce
    .number()
    .int()
    .min(60)
    .default(4 * 3600),
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

/** The stack's settings with the backend decided and the S3 endpoint it serves (or uses) filled in. */
export type StackConfig = Omit<z.infer<typeof StackSchema>, 'S3_BACKEND' | 'S3_ENDPOINT'> & {
  S3_BACKEND: 'rgw' | 'minio' | 'external';
  S3_ENDPOINT: string;
};

const sameEndpoint = (a: string, b: string): boolean => new URL(a).origin === new URL(b).origin;

/**
 * Reads the stack's settings from `env`. A malformed variable is a ConfigError naming it; so is an
 * S3_ENDPOINT given without S3_BACKEND=external, unless it is the very endpoint of the local server
 * the stack starts (left over from an earlier shell, it then means the same thing).
 */
export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const raw = parseEnv(CheckedStackSchema, env);
  const backend = raw.S3_BACKEND ?? (raw.MINIO_BIN ? 'minio' : 'rgw');
  const local = `http://127.0.0.1:${backend === 'minio' ? raw.MINIO_PORT : raw.RGW_PORT}`;
  if (backend !== 'external' && raw.S3_ENDPOINT && !sameEndpoint(raw.S3_ENDPOINT, local)) {
    throw new ConfigError(
      `S3_ENDPOINT is set (${raw.S3_ENDPOINT}) but the stack starts its own S3 server (${backend}) at ${local}.\n` +
        `  To run the stack on that existing store instead, say so: S3_BACKEND=external S3_ENDPOINT=${raw.S3_ENDPOINT} npm run stack:up\n` +
        '  To start the local server, unset S3_ENDPOINT (the CLI finds the running stack by itself).',
    );
  }
  const endpoint = backend === 'external' && raw.S3_ENDPOINT ? raw.S3_ENDPOINT : local;
  return { ...raw, S3_BACKEND: backend, S3_ENDPOINT: endpoint, STACK_DIR: resolve(raw.STACK_DIR) };
}

/** The state file a running stack leaves in STACK_DIR (written by `stack up`, removed by `stack down`). */
export const STACK_STATE_FILE = 'stack.json';

/** Where the state file of the stack in `stackDir` is. */
export function stackStatePath(stackDir: string): string {
  return join(resolve(stackDir), STACK_STATE_FILE);
}

/**
 * What a running stack records about itself, so that the CLI and `npm start` find it without
 * being told its ports. `env` holds what a client needs (endpoint, region, bucket, and, for the
 * servers the stack started itself, their local credentials; never those of an external store).
 */
export const StackStateSchema = z.object({
  version: z.literal(1),
  started_at: z.string(),
  backend: z.enum(['rgw', 'minio', 'external']),
  s3Endpoint: z.string(),
  bucket: z.string(),
  bridgeUrl: z.string(),
  lambdaEndpoint: z.string(),
  /** The operators' review page (serverless-offline's HTTP port); its token is env.OPERATOR_TOKEN. */
  reviewUrl: z.string().optional(),
  stage: z.string(),
  logDir: z.string(),
  ports: z.record(z.string(), z.number()),
  /** The process-group leaders of the daemons (see infra/process.ts), to tell a live stack from a dead one. */
  pids: z.array(z.object({ name: z.string(), pid: z.number().int() })),
  env: z.record(z.string(), z.string()),
});
/** A parsed stack state file. */
export type StackState = z.infer<typeof StackStateSchema>;

/** The state file of the stack in STACK_DIR, or undefined when none is there; a file that is not one is a ConfigError naming it. */
export function readStackState(env: NodeJS.ProcessEnv = process.env): { file: string; state: StackState } | undefined {
  const file = stackStatePath(env['STACK_DIR'] || '.stack');
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `the stack state file ${file} is not JSON (${error instanceof Error ? error.message : String(error)}): remove it with \`npm run stack:down\``,
    );
  }
  const parsed = StackStateSchema.safeParse(json);
  if (!parsed.success)
    throw new ConfigError(`${file} is not a stack state file this version writes: \`npm run stack:down\`, then \`npm run stack:up\``);
  return { file, state: parsed.data };
}

/** Whether any daemon the state file names is still alive (its process group answers signal 0). */
export function stackAlive(state: StackState): boolean {
  return state.pids.some(({ pid }) => {
    if (!Number.isInteger(pid) || pid <= 1) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  });
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
