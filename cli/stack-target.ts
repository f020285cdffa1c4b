import { relative } from 'node:path';
import { loadStackConfig, readStackState, stackAlive, stackStatePath } from '../infra/stack-config.ts';

/**
 * Which store the operators' tools talk to, and how they found it: S3_ENDPOINT when it is given;
 * otherwise the state file of the stack that is up in STACK_DIR (`.stack` by default), which
 * names its endpoint, bucket and local credentials; otherwise the endpoint the local stack would
 * have with the ports in the environment (RGW_PORT, MINIO_PORT), so that a failure can say that no
 * stack is up. Variables given explicitly always win over the state file's.
 */
export interface StoreTarget {
  /** The environment to read the runtime configuration from (lib/config.ts). */
  env: NodeJS.ProcessEnv;
  endpoint: string;
  bucket: string;
  source: 'S3_ENDPOINT' | 'state-file' | 'no-stack';
  /** The state file read, or the one that was looked for. */
  stateFile: string;
  /** For a state file: when the stack started, and whether any of its daemons is still alive. */
  startedAt?: string;
  alive?: boolean;
  logDir?: string;
}

const given = (env: NodeJS.ProcessEnv, name: string): string | undefined => (env[name] ? env[name] : undefined);

/** Finds the store the CLI (or `npm start`) should use; see StoreTarget. */
export function findStore(env: NodeJS.ProcessEnv = process.env): StoreTarget {
  const stateFile = stackStatePath(env['STACK_DIR'] || '.stack');
  const bucketOf = (e: NodeJS.ProcessEnv): string => given(e, 'VAULT_BUCKET') ?? 'vaultmend-vault';
  const endpoint = given(env, 'S3_ENDPOINT');
  if (endpoint) return { env, endpoint, bucket: bucketOf(env), source: 'S3_ENDPOINT', stateFile };
  const found = readStackState(env);
  if (found) {
    const { state } = found;
    const explicit = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
    const merged = { ...state.env, S3_ENDPOINT: state.s3Endpoint, VAULT_BUCKET: state.bucket, ...explicit };
    return {
      env: merged,
      endpoint: state.s3Endpoint,
      bucket: bucketOf(merged),
      source: 'state-file',
      stateFile: found.file,
      startedAt: state.started_at,
      alive: stackAlive(state),
      logDir: state.logDir,
    };
  }
  let local = 'http://127.0.0.1:7480';
  try {
    local = loadStackConfig({ ...env, S3_ENDPOINT: undefined, S3_BACKEND: undefined }).S3_ENDPOINT;
  } catch {
    // a malformed port is reported by whoever reads it; the default is the best guess here
  }
  return { env: { ...env, S3_ENDPOINT: local }, endpoint: local, bucket: bucketOf(env), source: 'no-stack', stateFile };
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE']);

/** The error and every error it was caused by (`cause`, AggregateError's `errors`). */
function chain(error: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const queue: unknown[] = [error];
  while (queue.length && out.length < 20) {
    const e = queue.shift();
    if (!e || typeof e !== 'object') continue;
    const record = e as Record<string, unknown>;
    out.push(record);
    if (record['cause']) queue.push(record['cause']);
    if (Array.isArray(record['errors'])) queue.push(...(record['errors'] as unknown[]));
  }
  return out;
}

const shown = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
};

/**
 * A message that says what happened and what to do, for an error that comes from not reaching
 * the store (nothing listens, wrong bucket, wrong credentials); undefined for any other error.
 */
export function explainStoreError(error: unknown, target: StoreTarget): string | undefined {
  const errors = chain(error);
  const network = errors
    .map((e) => (typeof e['code'] === 'string' ? e['code'] : e['name']))
    .find((c) => typeof c === 'string' && NETWORK.has(c)) as string | undefined;
  const names = errors.map((e) => e['name'] ?? e['Code']).filter((n): n is string => typeof n === 'string');
  const state = shown(target.stateFile);
  if (network) {
    switch (target.source) {
      case 'S3_ENDPOINT':
        return (
          `no S3 store answers at ${target.endpoint} (S3_ENDPOINT): ${network}.\n` +
          '  Check S3_ENDPOINT, or unset it to use the local stack (`npm run stack:up` starts one; the CLI then finds it by itself).'
        );
      case 'state-file':
        return target.alive
          ? `the stack recorded in ${state} (started ${target.startedAt}) is up, but its S3 store at ${target.endpoint} does not answer: ${network}.\n` +
              `  See its logs in ${target.logDir ?? 'STACK_DIR/logs'}; restart it with \`npm run stack:down\` and \`npm run stack:up\`.`
          : `the stack recorded in ${state} (started ${target.startedAt}) is no longer running: no S3 store answers at ${target.endpoint} (${network}).\n` +
              '  Clear it with `npm run stack:down`, then start one with `npm run stack:up`.';
      default:
        return (
          `no stack is running: there is no ${state}, and no S3 store answers at ${target.endpoint} (${network}).\n` +
          '  Start one with `npm run stack:up` (or `KEEP_STACK=1 npm start`), then run this command again.\n' +
          '  A stack started with another STACK_DIR: give the CLI the same STACK_DIR. Another store: set S3_ENDPOINT (and VAULT_BUCKET).'
        );
    }
  }
  if (names.includes('NoSuchBucket')) {
    return `the store at ${target.endpoint} has no bucket ${target.bucket}: it is not a vaultmend vault (\`npm run stack:up\` creates one), or VAULT_BUCKET names another bucket.`;
  }
  if (names.some((n) => n === 'InvalidAccessKeyId' || n === 'SignatureDoesNotMatch' || n === 'AccessDenied')) {
    return `the store at ${target.endpoint} refused the credentials (${names.find((n) => n !== 'Error' && n !== 'StoreError')}): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.`;
  }
  return undefined;
}
