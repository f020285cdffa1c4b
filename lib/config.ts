import { tmpdir } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { DEFAULT_GZIP_LIMITS } from './ingest/count-records.ts';
import { checkEgress } from './remediate/egress-guard.ts';

/** S3_SSE_KMS_KEY_ID goes with S3_SSE=aws:kms and only with it (the store refuses a key id for AES256). */
function checkSseKey(env: { S3_SSE?: string; S3_SSE_KMS_KEY_ID?: string }, ctx: z.RefinementCtx): void {
  if (env.S3_SSE === 'aws:kms' && !env.S3_SSE_KMS_KEY_ID)
    ctx.addIssue({ code: 'custom', path: ['S3_SSE_KMS_KEY_ID'], message: 'required when S3_SSE=aws:kms (the KMS key to encrypt with)' });
  if (env.S3_SSE !== 'aws:kms' && env.S3_SSE_KMS_KEY_ID)
    ctx.addIssue({ code: 'custom', path: ['S3_SSE_KMS_KEY_ID'], message: 'set only with S3_SSE=aws:kms' });
}

/** A comma-separated list of host names or addresses (an allow-list), as its trimmed, non-empty entries. */
const hostList = z
  .string()
  .default('')
  .transform((list) =>
    list
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
  );

/** OPENLINEAGE_URL must be inside the perimeter, like the model server: loopback, a private address, or in OPENLINEAGE_ALLOW_HOSTS. */
function checkLineageEndpoint(
  env: { OPENLINEAGE_URL?: string | undefined; OPENLINEAGE_ALLOW_HOSTS: string[] },
  ctx: z.RefinementCtx,
): void {
  if (!env.OPENLINEAGE_URL) return;
  try {
    checkEgress(env.OPENLINEAGE_URL, env.OPENLINEAGE_ALLOW_HOSTS);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    ctx.addIssue({
      code: 'custom',
      path: ['OPENLINEAGE_URL'],
      message: `${why} (name it in OPENLINEAGE_ALLOW_HOSTS if it is in your network)`,
    });
  }
}

/**
 * Settings the functions read from the environment. Every variable has a documented default
 * that suits the local stack; a malformed value is a ConfigError naming the variable.
 */
const RuntimeSchema = z.object({
  // `aws` leaves the endpoint to the SDK (real AWS); anything else is an S3-compatible server.
  S3_ENDPOINT: z.union([z.literal('aws'), z.url({ protocol: /^https?$/ })]).default('http://127.0.0.1:7480'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).default('vaultmend'),
  S3_SECRET_ACCESS_KEY: z.string().min(1).default('vaultmend-local-secret'),
  /** Sockets the S3 client opens to the store at most (per process); further requests wait in its queue. */
  S3_MAX_SOCKETS: z.coerce.number().int().min(1).max(1024).default(32),
  /** A PEM CA bundle trusted for an https S3_ENDPOINT, besides the default roots. */
  S3_CA_FILE: z.string().min(1).optional(),
  /** Server-side encryption asked of the store on every write: AES256 (SSE-S3) or aws:kms (SSE-KMS). */
  S3_SSE: z.enum(['AES256', 'aws:kms']).optional(),
  /** The KMS key id every write names; required with S3_SSE=aws:kms, refused otherwise. */
  S3_SSE_KMS_KEY_ID: z.string().min(1).optional(),
  VAULT_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('vaultmend-vault'),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** Where alerts are POSTed (Slack/PagerDuty-style JSON); unset: alerts are only logged. */
  ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The columnar engine's memory budget; beyond it, it spills to WORK_DIR. */
  ENGINE_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'a size such as 512MB')
    .default('512MB'),
  ENGINE_THREADS: z.coerce.number().int().min(1).max(64).default(2),
  /** Failed attempts of the same object content before it is set aside as `ingest-failed`. */
  INGEST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** A raw file whose (uncompressed) content is larger fans out into parts, one invocation each. */
  INGEST_PART_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1 << 30),
  /**
   * A gzip whose content grows past this many times the compressed bytes read (once past 64 MiB
   * of content) is refused as a bomb (`gzip-bomb`), decompressed no further.
   */
  INGEST_GZIP_MAX_RATIO: z.coerce.number().min(2).default(DEFAULT_GZIP_LIMITS.maxRatio),
  /** A gzip whose content is larger than this is refused (`gzip-too-large`), decompressed no further. */
  INGEST_GZIP_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1 << 20)
    .default(DEFAULT_GZIP_LIMITS.maxBytes),
  /**
   * A directory holding a sentence-embedding model in transformers.js layout
   * (`<dir>/<EMBEDDINGS_MODEL>/config.json, tokenizer.json, onnx/model.onnx`); read locally,
   * never fetched. Unset: the built-in hashing embedder.
   */
  EMBEDDINGS_MODEL_DIR: z.string().min(1).optional(),
  EMBEDDINGS_MODEL: z
    .string()
    .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/, 'a model name such as all-MiniLM-L6-v2')
    .refine((name) => !name.split('/').some((part) => part === '.' || part === '..'), 'no . or .. path segments')
    .default('all-MiniLM-L6-v2'),
  /** Cosine similarity at or above which two error shapes of one column and rule are one cluster. */
  CLUSTER_MERGE_SIMILARITY: z.coerce.number().min(0).max(1).default(0.85),
  /** Confidence (min of the model's own score and the measured pass rate) at or above which a function is applied. */
  REMEDIATE_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.75),
  /** The sandbox's limits per call into the isolate. */
  SANDBOX_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
  SANDBOX_MEMORY_MB: z.coerce.number().int().min(8).max(1024).default(64),
  /**
   * The local model server (Ollama). Unset: the model tier is skipped (clusters the synthesizer
   * cannot fix go to review). It must be loopback, a private address, or named in OLLAMA_ALLOW_HOSTS.
   */
  OLLAMA_HOST: z.url({ protocol: /^https?$/ }).optional(),
  OLLAMA_MODEL: z
    .string()
    .regex(/^[A-Za-z0-9._\/-]+(:[A-Za-z0-9._-]+)?$/, 'a model name such as qwen2.5-coder:1.5b')
    .default('qwen2.5-coder:1.5b'),
  /** Comma-separated host names or addresses allowed besides loopback and private ranges. */
  OLLAMA_ALLOW_HOSTS: hostList,
  OLLAMA_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  /** Further attempts after a transport failure (timeout, 5xx, cut stream), with backoff. */
  OLLAMA_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  /** A PEM CA bundle trusted for an https OLLAMA_HOST, besides the default roots. */
  OLLAMA_CA_FILE: z.string().min(1).optional(),
  /** Model rounds per cluster: the first answer and the repairs after a refusal or a low measurement. */
  MODEL_REPAIR_ROUNDS: z.coerce.number().int().min(1).max(10).default(4),
  /** Model failures in a row after which the remaining clusters are quarantined as llm-unavailable. */
  MODEL_BREAKER_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
  /**
   * Seconds the open breaker keeps the model from being asked; then one ask goes through as a
   * trial (half-open): a success closes the breaker, a failure opens it for another cool-down.
   */
  MODEL_BREAKER_COOLDOWN_S: z.coerce.number().int().min(1).max(86_400).default(60),
  /** How long the store keeps each batch's audit log write-once (Object Lock COMPLIANCE). */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(2_555),
  /** A batch whose cluster results have not all arrived after this long is reported as stuck. */
  RECONCILE_STUCK_AFTER_S: z.coerce.number().int().min(1).default(3_600),
  /** Scratch space for downloads, Parquet before upload, and spills (Lambda: /tmp). */
  /** How long a step's claim on its work holds before another delivery may take it over (longer than the function timeout). */
  /** The review page and its API answer only requests carrying this token; unset or empty: nothing is served. */
  OPERATOR_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(16, 'OPERATOR_TOKEN must be at least 16 characters').optional(),
  ),
  CLAIM_LEASE_S: z.coerce.number().int().min(1).max(86_400).default(360),
  WORK_DIR: z.string().min(1).default(tmpdir()),
  /**
   * An OpenLineage endpoint (e.g. Marquez's `http://<host>:5000/api/v1/lineage`) every run event is
   * POSTed to besides its vault copy; unset: events are only written to the vault. It must be
   * loopback, a private address, or named in OPENLINEAGE_ALLOW_HOSTS.
   */
  OPENLINEAGE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Comma-separated host names or addresses allowed for OPENLINEAGE_URL besides loopback and private ranges. */
  OPENLINEAGE_ALLOW_HOSTS: hostList,
});

/** The schema with the checks that span variables. */
const RuntimeEnvSchema = RuntimeSchema.superRefine(checkSseKey).superRefine(checkLineageEndpoint);

export type RuntimeConfig = z.infer<typeof RuntimeSchema>;

/** Parses `env` against `schema`, turning zod issues into one ConfigError that names each variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  // Empty strings count as unset so that `FOO= npm start` falls back to the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    return `${name}: ${issue.message} (got ${JSON.stringify(present[String(issue.path[0])] ?? null)})`;
  });
  throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}

export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  return parseEnv(RuntimeEnvSchema, env);
}
