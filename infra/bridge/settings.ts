import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseEnv } from '../../lib/config.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const BridgeEnv = z.object({
  /** 0: any free port (tests). */
  BRIDGE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  OFFLINE_LAMBDA_PORT: z.coerce.number().int().min(1).max(65535).default(3002),
  STAGE: z.string().default('local'),
  S3_REGION: z.string().default('us-east-1'),
  STACK_DIR: z.string().min(1).default('.stack'),
  /** The durable queue: `<dir>/<fn>/<time>-<uuid>.json`; dead letters go to `<dir>/../bridge-dead/<fn>/`. */
  BRIDGE_QUEUE_DIR: z.string().min(1).optional(),
  /** Where each function's reservedConcurrency and timeout are read. */
  BRIDGE_SERVERLESS_YML: z.string().min(1).default(join(REPO_ROOT, 'serverless.yml')),
  /** The delays before each retry of a failed invocation, in seconds; their number is the number of retries (Lambda: 2). */
  BRIDGE_RETRY_DELAYS_S: z
    .string()
    .default('60,120')
    .transform((list, ctx) => {
      const delays = list.split(',').map((d) => Number(d.trim()));
      if (delays.some((d) => !Number.isFinite(d) || d < 0))
        ctx.addIssue({ code: 'custom', message: 'comma-separated seconds, such as 60,120' });
      return delays;
    }),
  /** How much longer than the function's timeout the bridge waits for an invocation before it counts as failed. */
  BRIDGE_INVOKE_GRACE_S: z.coerce.number().min(0).max(3600).default(30),
  ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
});

/** The bridge's settings, from its environment (see BridgeEnv for each variable's default). */
export type BridgeSettings = Omit<z.infer<typeof BridgeEnv>, 'BRIDGE_QUEUE_DIR'> & { BRIDGE_QUEUE_DIR: string; BRIDGE_DEAD_DIR: string };

/** Parses the bridge's environment; a wrong value is a ConfigError naming the variable. */
export function loadBridgeSettings(env: NodeJS.ProcessEnv): BridgeSettings {
  const raw = parseEnv(BridgeEnv, env);
  const queueDir = resolve(raw.BRIDGE_QUEUE_DIR ?? join(raw.STACK_DIR, 'bridge-queue'));
  return { ...raw, BRIDGE_QUEUE_DIR: queueDir, BRIDGE_DEAD_DIR: resolve(queueDir, '..', 'bridge-dead') };
}
