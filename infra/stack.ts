import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PROBE_PREFIX } from '../lib/flow/routes.ts';
import { parseContractText, registerContract } from '../lib/contract/registry.ts';
import { parseEnv } from '../lib/config.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { S3ObjectStore } from '../lib/store/s3-object-store.ts';
import { ensureVaultBucket } from './bucket.ts';
import { openStack, restartComponent, RestartRefusedError } from './components.ts';
import { configureMinioNotifications, configureRgwNotifications } from './notifications.ts';
import { assertPortsFree, ProcessTable, waitFor } from './process.ts';
import { startMinio } from './s3-server/minio.ts';
import { startRgw } from './s3-server/rgw.ts';
import {
  functionEnv,
  loadStackConfig,
  readStackState,
  stackStatePath,
  SupervisorSchema,
  type StackConfig,
  type StackState,
} from './stack-config.ts';
import { SUPERVISOR_NAME } from './supervisor.ts';
import { warmFunctions } from './warm-functions.ts';

/**
 * The local stack, up and down: the S3 server (Ceph RGW by default), the vault bucket with
 * Object Lock, the event bridge, the store's upload notifications, serverless-offline, and the
 * supervisor that starts a dead component again (infra/supervisor.ts). Everything started is
 * recorded by pid (and its spawn spec) under STACK_DIR and stopped by that pid; a stack that is
 * up also leaves a state file, STACK_DIR/stack.json (see StackStateSchema), from which the CLI and
 * `npm start` find its endpoints, ports and bucket. `restart <name>` starts one component again.
 */

/** The repository's root folder (the stack's daemons run from it). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** What `stackUp` returns: where the stack's store, bridge and Lambda endpoint are, and the functions' environment. */
export interface StackInfo {
  backend: StackConfig['S3_BACKEND'];
  s3Endpoint: string;
  bucket: string;
  bridgeUrl: string;
  lambdaEndpoint: string;
  /** The operators' review page; its token is env.OPERATOR_TOKEN. */
  reviewUrl: string;
  stage: string;
  logDir: string;
  env: Record<string, string>;
}

function stateFile(config: StackConfig): string {
  return stackStatePath(config.STACK_DIR);
}

/** The state file's content: credentials only for a server the stack started itself (never an external store's). */
function stackState(
  info: StackInfo,
  config: StackConfig,
  ports: Record<string, number>,
  processes: ProcessTable,
  startedAt: Date,
): StackState {
  const env = { ...info.env };
  if (config.S3_BACKEND === 'external') {
    delete env['S3_ACCESS_KEY_ID'];
    delete env['S3_SECRET_ACCESS_KEY'];
  }
  return {
    version: 1,
    started_at: startedAt.toISOString(),
    backend: info.backend,
    s3Endpoint: info.s3Endpoint,
    bucket: info.bucket,
    bridgeUrl: info.bridgeUrl,
    lambdaEndpoint: info.lambdaEndpoint,
    reviewUrl: info.reviewUrl,
    stage: info.stage,
    logDir: info.logDir,
    ports,
    pids: processes.running().map(({ name, pid }) => ({ name, pid })),
    env,
  };
}

/** Node 24 runs every child the stack starts, whatever `node` is first on PATH. */
function nodeScript(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args };
}

/**
 * Brings the whole stack up and waits until an upload's notification has reached the bridge and
 * serverless-offline answers; writes the state file last. Anything started is stopped on failure.
 */
export async function stackUp(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = console.log): Promise<StackInfo> {
  const config = loadStackConfig(env);
  const processes = new ProcessTable(config.STACK_DIR, config.STACK_MAX_LIFETIME_S);
  if (processes.running().length > 0) {
    throw new Error(`a stack is already running from ${config.STACK_DIR}; run \`npm run stack:down\` first`);
  }
  // What an earlier stack left: its `stack down` marker and its spawn specs.
  rmSync(processes.stoppingMarker, { force: true });
  rmSync(processes.specDir, { recursive: true, force: true });
  const ports: Record<string, number> = {
    BRIDGE_PORT: config.BRIDGE_PORT,
    OFFLINE_LAMBDA_PORT: config.OFFLINE_LAMBDA_PORT,
    OFFLINE_HTTP_PORT: config.OFFLINE_HTTP_PORT,
  };
  if (config.S3_BACKEND === 'rgw') Object.assign(ports, { RGW_PORT: config.RGW_PORT, CEPH_MON_PORT: config.CEPH_MON_PORT });
  if (config.S3_BACKEND === 'minio') ports['MINIO_PORT'] = config.MINIO_PORT;
  await assertPortsFree(ports);
  const started = Date.now();
  // The review page answers only with this token; one is made when none is configured.
  const operatorToken = config.OPERATOR_TOKEN ?? randomBytes(24).toString('hex');
  // The functions see the variables the stack was started with (AUDIT_RETENTION_DAYS, OLLAMA_HOST, ...).
  const childEnv = {
    ...process.env,
    ...env,
    ...functionEnv(config),
    OPERATOR_TOKEN: operatorToken,
    STAGE: config.STAGE,
    TZ: 'UTC',
    BRIDGE_PORT: String(config.BRIDGE_PORT),
    OFFLINE_LAMBDA_PORT: String(config.OFFLINE_LAMBDA_PORT),
    OFFLINE_HTTP_PORT: String(config.OFFLINE_HTTP_PORT),
    BRIDGE_QUEUE_DIR: join(resolve(config.STACK_DIR), 'bridge-queue'),
  };
  try {
    // The bridge first: MinIO checks its webhook target when it starts.
    // A local S3 server starts empty (memstore): events queued by an earlier stack name objects that are gone.
    if (config.S3_BACKEND !== 'external') {
      for (const dir of ['bridge-queue', 'bridge-dead']) rmSync(join(config.STACK_DIR, dir), { recursive: true, force: true });
    }
    log('event bridge: starting');
    const bridge = nodeScript(['--import', 'tsx', join(REPO_ROOT, 'infra/event-bridge.ts')]);
    processes.start({ name: 'event-bridge', ...bridge, env: childEnv, cwd: REPO_ROOT });
    const health = `http://127.0.0.1:${config.BRIDGE_PORT}/health`;
    await waitFor(`event bridge at ${health}`, async () => (await fetch(health)).ok, 30_000, `see ${processes.logFile('event-bridge')}`);

    if (config.S3_BACKEND === 'rgw') await startRgw(config, processes, log);
    else if (config.S3_BACKEND === 'minio') await startMinio(config, processes, log);
    else
      log(
        `s3: S3_BACKEND=external: no local S3 server is started; the stack uses the existing store at ${config.S3_ENDPOINT} (bucket ${config.VAULT_BUCKET})`,
      );

    const s3 = makeS3Client(config);
    await ensureVaultBucket(s3, config.VAULT_BUCKET);
    const flavor = config.S3_BACKEND === 'external' ? config.S3_FLAVOR : config.S3_BACKEND;
    const target = flavor === 'minio' ? await configureMinioNotifications(config) : await configureRgwNotifications(config, s3);
    log(`vault bucket ${config.VAULT_BUCKET}: Object Lock on, notifications -> ${target}`);
    const vault = new S3ObjectStore(s3, config.VAULT_BUCKET);
    for (const file of readdirSync(join(REPO_ROOT, 'infra/contracts'))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const source = `infra/contracts/${file}`;
      const registered = await registerContract(
        vault,
        parseContractText(readFileSync(join(REPO_ROOT, source), 'utf8'), source),
        new Date(),
        source,
      );
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
    const delivered = waitFor(
      "the store's upload notification to reach the event bridge",
      async () => (await fetch(`http://127.0.0.1:${config.BRIDGE_PORT}/probes/${probe}`)).ok,
      config.STACK_READY_TIMEOUT_S * 1000,
      `see ${processes.logFile('event-bridge')}`,
    );

    const lambdaEndpoint = `http://127.0.0.1:${config.OFFLINE_LAMBDA_PORT}`;
    const offlineReady = waitFor(
      `serverless-offline Lambda endpoint at ${lambdaEndpoint}`,
      async () => (await fetch(lambdaEndpoint, { signal: AbortSignal.timeout(2000) })).status > 0,
      config.STACK_READY_TIMEOUT_S * 1000,
      `see ${processes.logFile('serverless-offline')}`,
    );

    await Promise.all([delivered, offlineReady]);
    log('notifications delivered end to end; serverless-offline ready');
    await warmFunctions(
      { repo: REPO_ROOT, port: config.OFFLINE_LAMBDA_PORT, region: config.S3_REGION, prefix: `vaultmend-${config.STAGE}` },
      log,
    );
    if (config.SUPERVISOR === '1') {
      // Started last, so `stack down` would stop it first even without being told; it waits for
      // the state file before it looks at anything.
      processes.start({
        name: SUPERVISOR_NAME,
        ...nodeScript(['--import', 'tsx', join(REPO_ROOT, 'infra/supervisor.ts')]),
        env: { ...childEnv, STACK_DIR: config.STACK_DIR },
        cwd: REPO_ROOT,
      });
      log(`supervisor: started (checks every ${config.SUPERVISOR_INTERVAL_S} s; see ${processes.logFile(SUPERVISOR_NAME)})`);
    } else log('supervisor: off (SUPERVISOR=0)');
    const info: StackInfo = {
      backend: config.S3_BACKEND,
      s3Endpoint: config.S3_ENDPOINT,
      bucket: config.VAULT_BUCKET,
      bridgeUrl: `http://127.0.0.1:${config.BRIDGE_PORT}/events`,
      lambdaEndpoint,
      reviewUrl: `http://127.0.0.1:${config.OFFLINE_HTTP_PORT}/review`,
      stage: config.STAGE,
      logDir: processes.logDir,
      env: { ...functionEnv(config), OPERATOR_TOKEN: operatorToken },
    };
    writeFileSync(stateFile(config), `${JSON.stringify(stackState(info, config, ports, processes, new Date(started)), null, 2)}\n`, {
      mode: 0o600,
    });
    log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return info;
  } catch (error) {
    log('stack start failed; stopping what was started');
    await processes.stopAll();
    throw error;
  }
}

/**
 * Stops every daemon recorded under STACK_DIR, by pid, and removes the state file. Reads only
 * STACK_DIR: a stack must be stoppable whatever else the shell has set.
 */
export async function stackDown(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = console.log): Promise<void> {
  const stackDir = resolve(env['STACK_DIR'] || '.stack');
  const processes = new ProcessTable(stackDir, 60);
  // The marker first: from here on nothing is started again (the supervisor, a `stack restart`).
  if (existsSync(stackDir)) writeFileSync(processes.stoppingMarker, `${process.pid} ${new Date().toISOString()}\n`);
  // The supervisor first, so that it does not start again what is being stopped.
  const stopped = await processes.stopAll(10_000, [SUPERVISOR_NAME]);
  rmSync(stackStatePath(stackDir), { force: true });
  rmSync(processes.specDir, { recursive: true, force: true });
  rmSync(processes.stoppingMarker, { force: true });
  log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
}

/**
 * `stack restart <name>`: starts one component of the running stack again with its recorded
 * spec, waits until it serves, and, on the notification path, until a probe upload's notification
 * arrives (restarting radosgw, data kept, when the store has stopped delivering). Exit codes: 0
 * done, 1 refused or failed, 2 wrong arguments.
 */
export async function stackRestart(
  name: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = console.log,
): Promise<number> {
  if (!name) {
    console.error('usage: npm run stack:restart -- <component>   (serverless-offline, event-bridge, radosgw, ceph-mon, supervisor)');
    return 2;
  }
  const { SUPERVISOR_PROBE_TIMEOUT_S } = parseEnv(SupervisorSchema, env);
  try {
    const handle = openStack(env);
    const report = await restartComponent(handle, name, SUPERVISOR_PROBE_TIMEOUT_S * 1000, (message, fields = {}) =>
      log([message, ...Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)].join(' ')),
    );
    log(`${name}: serving again after ${report.servingAfterS.toFixed(1)} s (pid ${report.pid})`);
    if (report.delivery) {
      const how = report.delivery.radosgwRestarted ? ` (radosgw restarted, pid ${report.delivery.radosgwRestarted})` : '';
      if (!report.delivery.delivered) {
        console.error(
          `upload notifications are not delivered after ${report.delivery.seconds.toFixed(1)} s${how}; see ${handle.processes.logDir}`,
        );
        return 1;
      }
      log(`notifications delivered end to end after ${report.delivery.seconds.toFixed(1)} s${how}`);
    }
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return error instanceof RestartRefusedError ? error.exitCode : 1;
  }
}

/** The state file of the stack in STACK_DIR (see readStackState), or undefined when no stack is up there. */
export function readStackInfo(env: NodeJS.ProcessEnv = process.env): StackState | undefined {
  return readStackState(env)?.state;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, name] = process.argv.slice(2);
  const actions: Record<string, () => Promise<unknown>> = {
    up: () => stackUp(),
    down: () => stackDown(),
    restart: async () => process.exit(await stackRestart(name)),
  };
  const action = command ? actions[command] : undefined;
  if (!action) {
    console.error('usage: tsx infra/stack.ts up|down|restart <component>');
    process.exit(2);
  }
  action().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
