import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PROBE_PREFIX } from '../lib/flow/routes.ts';
import { registerContract } from '../lib/contract/registry.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { S3ObjectStore } from '../lib/store/s3-object-store.ts';
import { ensureVaultBucket } from './bucket.ts';
import { configureMinioNotifications, configureRgwNotifications } from './notifications.ts';
import { assertPortsFree, ProcessTable, waitFor } from './process.ts';
import { startMinio } from './s3-server/minio.ts';
import { startRgw } from './s3-server/rgw.ts';
import { functionEnv, loadStackConfig, type StackConfig } from './stack-config.ts';

/**
 * The local stack, up and down: the S3 server (Ceph RGW by default), the vault bucket with
 * Object Lock, the event bridge, the store's upload notifications, and serverless-offline.
 * Everything started is recorded by pid under STACK_DIR and stopped by that pid.
 */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface StackInfo {
  backend: StackConfig['S3_BACKEND'];
  s3Endpoint: string;
  bucket: string;
  bridgeUrl: string;
  lambdaEndpoint: string;
  stage: string;
  logDir: string;
  env: Record<string, string>;
}

function stateFile(config: StackConfig): string {
  return join(config.STACK_DIR, 'stack.json');
}

/** Node 24 runs every child the stack starts, whatever `node` is first on PATH. */
function nodeScript(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args };
}

export async function stackUp(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = console.log): Promise<StackInfo> {
  const config = loadStackConfig(env);
  const processes = new ProcessTable(config.STACK_DIR, config.STACK_MAX_LIFETIME_S);
  if (processes.running().length > 0) {
    throw new Error(`a stack is already running from ${config.STACK_DIR}; run \`npm run stack:down\` first`);
  }
  const ports: Record<string, number> = {
    BRIDGE_PORT: config.BRIDGE_PORT,
    OFFLINE_LAMBDA_PORT: config.OFFLINE_LAMBDA_PORT,
    OFFLINE_HTTP_PORT: config.OFFLINE_HTTP_PORT,
  };
  if (config.S3_BACKEND === 'rgw') Object.assign(ports, { RGW_PORT: config.RGW_PORT, CEPH_MON_PORT: config.CEPH_MON_PORT });
  if (config.S3_BACKEND === 'minio') ports['MINIO_PORT'] = config.MINIO_PORT;
  await assertPortsFree(ports);
  const started = Date.now();
  // The functions see the variables the stack was started with (AUDIT_RETENTION_DAYS, OLLAMA_HOST, ...).
  const childEnv = { ...process.env, ...env, ...functionEnv(config), STAGE: config.STAGE, TZ: 'UTC',
    BRIDGE_PORT: String(config.BRIDGE_PORT), OFFLINE_LAMBDA_PORT: String(config.OFFLINE_LAMBDA_PORT),
    OFFLINE_HTTP_PORT: String(config.OFFLINE_HTTP_PORT) };
  try {
    // The bridge first: MinIO checks its webhook target when it starts.
    log('event bridge: starting');
    const bridge = nodeScript(['--import', 'tsx', join(REPO_ROOT, 'infra/event-bridge.ts')]);
    processes.start({ name: 'event-bridge', ...bridge, env: childEnv, cwd: REPO_ROOT });
    const health = `http://127.0.0.1:${config.BRIDGE_PORT}/health`;
    await waitFor(`event bridge at ${health}`, async () => (await fetch(health)).ok, 30_000,
      `see ${processes.logFile('event-bridge')}`);

    if (config.S3_BACKEND === 'rgw') await startRgw(config, processes, log);
    else if (config.S3_BACKEND === 'minio') await startMinio(config, processes, log);
    else log(`s3: using the existing endpoint ${config.S3_ENDPOINT}`);

    const s3 = makeS3Client(config);
    await ensureVaultBucket(s3, config.VAULT_BUCKET);
    const flavor = config.S3_BACKEND === 'external' ? config.S3_FLAVOR : config.S3_BACKEND;
    const target = flavor === 'minio' ? await configureMinioNotifications(config) : await configureRgwNotifications(config, s3);
    log(`vault bucket ${config.VAULT_BUCKET}: Object Lock on, notifications -> ${target}`);
    const vault = new S3ObjectStore(s3, config.VAULT_BUCKET);
    for (const file of readdirSync(join(REPO_ROOT, 'infra/contracts')).filter((f) => f.endsWith('.json')).sort()) {
      const registered = await registerContract(vault, JSON.parse(readFileSync(join(REPO_ROOT, 'infra/contracts', file), 'utf8')));
      log(`contract registered: ${registered.contract.stream} v${registered.contract.version}`);
    }

    log('serverless-offline: starting');
    const osls = createRequire(import.meta.url).resolve('osls/bin/serverless.js');
    processes.start({
      name: 'serverless-offline',
      ...nodeScript([osls, 'offline', 'start', '--stage', config.STAGE]),
      // A handler that throws in an async (Event) invocation surfaces in serverless-offline as an
      // unhandled rejection, which would end the whole process; on Lambda it fails that
      // invocation only. Warn instead, so the local FaaS behaves like the real one.
      env: { ...childEnv, NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --unhandled-rejections=warn`.trim() },
      cwd: REPO_ROOT,
    });
    // Meanwhile, RGW takes up to ~30 s to start serving a new persistent topic: wait for a real delivery.
    const probe = `${randomUUID()}`;
    await s3.send(new PutObjectCommand({ Bucket: config.VAULT_BUCKET, Key: PROBE_PREFIX + probe, Body: 'probe' }));
    const delivered = waitFor('the store\'s upload notification to reach the event bridge',
      async () => (await fetch(`http://127.0.0.1:${config.BRIDGE_PORT}/probes/${probe}`)).ok,
      config.STACK_READY_TIMEOUT_S * 1000, `see ${processes.logFile('event-bridge')}`);

    const lambdaEndpoint = `http://127.0.0.1:${config.OFFLINE_LAMBDA_PORT}`;
    const offlineReady = waitFor(`serverless-offline Lambda endpoint at ${lambdaEndpoint}`,
      async () => (await fetch(lambdaEndpoint, { signal: AbortSignal.timeout(2000) })).status > 0,
      config.STACK_READY_TIMEOUT_S * 1000, `see ${processes.logFile('serverless-offline')}`);

    await Promise.all([delivered, offlineReady]);
    log('notifications delivered end to end; serverless-offline ready');
    const info: StackInfo = {
      backend: config.S3_BACKEND,
      s3Endpoint: config.S3_ENDPOINT,
      bucket: config.VAULT_BUCKET,
      bridgeUrl: `http://127.0.0.1:${config.BRIDGE_PORT}/events`,
      lambdaEndpoint,
      stage: config.STAGE,
      logDir: processes.logDir,
      env: functionEnv(config),
    };
    writeFileSync(stateFile(config), `${JSON.stringify(info, null, 2)}\n`);
    log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return info;
  } catch (error) {
    log('stack start failed; stopping what was started');
    await processes.stopAll();
    throw error;
  }
}

export async function stackDown(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = console.log): Promise<void> {
  const config = loadStackConfig(env);
  const processes = new ProcessTable(config.STACK_DIR, config.STACK_MAX_LIFETIME_S);
  const stopped = await processes.stopAll();
  rmSync(stateFile(config), { force: true });
  log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
}

export function readStackInfo(env: NodeJS.ProcessEnv = process.env): StackInfo | undefined {
  const file = stateFile(loadStackConfig(env));
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StackInfo) : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const command = process.argv[2];
  const action = command === 'up' ? stackUp : command === 'down' ? stackDown : undefined;
  if (!action) {
    console.error('usage: tsx infra/stack.ts up|down');
    process.exit(2);
  }
  action().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
