import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { PROBE_PREFIX } from '../lib/flow/routes.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { ProcessTable, run, sleep, waitFor } from './process.ts';
import { breakNotificationQueueLocks, cephConfPath } from './s3-server/rgw.ts';
import { readStackState, type StackState } from './stack-config.ts';

/**
 * One component of a running stack, started again: by `stack restart <name>` and by the
 * supervisor. A restart waits until the component serves again and, for the parts of the upload
 * notification path, until a probe upload's notification has reached the event bridge. When it
 * does not arrive (radosgw 16 wedges its persistent topic's queue after its push endpoint was
 * down; see README, Self-healing), radosgw is restarted too: the vault's data lives in the OSD,
 * not in radosgw, so nothing is lost.
 */

/** Components that are never started again, and why (the message says what to do instead). */
export const NOT_RESTARTABLE: Readonly<Record<string, string>> = {
  'ceph-osd':
    'the OSD keeps the whole vault in memory (memstore): a restarted OSD starts empty and every object is lost. Run `npm run stack:down` and `npm run stack:up` for a fresh stack',
};

/** Components whose restart is followed by a probe of the notification path. */
export const DELIVERY_PATH: ReadonlySet<string> = new Set(['event-bridge', 'serverless-offline', 'radosgw', 'minio']);

/** A restart that cannot be done (a component not to be restarted, an unknown name, no stack): exit 1 or 2. */
export class RestartRefusedError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'RestartRefusedError';
  }
}

export type ComponentLog = (message: string, fields?: Record<string, unknown>) => void;

/** A running stack as read from its state file: what a restart needs to check it serves again. */
export interface StackHandle {
  stackDir: string;
  state: StackState;
  processes: ProcessTable;
  s3: S3Client;
  /** How long a component may take to serve again. */
  readyTimeoutMs: number;
}

/** The stack in STACK_DIR, from its state file; a RestartRefusedError when none is up there. */
export function openStack(env: NodeJS.ProcessEnv = process.env): StackHandle {
  const stackDir = resolve(env['STACK_DIR'] || '.stack');
  const found = readStackState({ ...env, STACK_DIR: stackDir });
  if (!found) throw new RestartRefusedError(`no stack is up in ${stackDir} (no state file): run \`npm run stack:up\``, 1);
  const { state } = found;
  const credentials = (name: string) => state.env[name] ?? env[name] ?? '';
  return {
    stackDir,
    state,
    processes: new ProcessTable(stackDir, 60),
    s3: makeS3Client({
      S3_ENDPOINT: state.s3Endpoint,
      S3_REGION: credentials('S3_REGION') || 'us-east-1',
      S3_ACCESS_KEY_ID: credentials('S3_ACCESS_KEY_ID'),
      S3_SECRET_ACCESS_KEY: credentials('S3_SECRET_ACCESS_KEY'),
    }),
    readyTimeoutMs: Number(env['STACK_READY_TIMEOUT_S'] || 180) * 1000,
  };
}

function bridgeBase(state: StackState): string {
  return new URL(state.bridgeUrl).origin;
}

/** Waits until a restarted component serves again (each by its own check). */
export async function waitServing(handle: StackHandle, name: string): Promise<void> {
  const { state, processes, readyTimeoutMs } = handle;
  const hint = `see ${processes.logFile(name)}`;
  const answers = (url: string, ok: (status: number) => boolean) => async () =>
    ok((await fetch(url, { signal: AbortSignal.timeout(2000) })).status);
  if (name === 'event-bridge')
    await waitFor(
      'event bridge',
      answers(`${bridgeBase(state)}/health`, (s) => s === 200),
      30_000,
      hint,
    );
  else if (name === 'serverless-offline')
    await waitFor(
      'serverless-offline Lambda endpoint',
      answers(state.lambdaEndpoint, (s) => s > 0),
      readyTimeoutMs,
      hint,
    );
  else if (name === 'radosgw' || name === 'minio')
    await waitFor(
      `S3 server at ${state.s3Endpoint}`,
      answers(`${state.s3Endpoint}/`, (s) => s < 500),
      readyTimeoutMs,
      hint,
    );
  else if (name === 'ceph-mon') {
    const conf = cephConfPath(handle.stackDir);
    await waitFor(
      'ceph monitor',
      async () =>
        (await run('ceph', ['-c', conf, '--connect-timeout', '10', 'mon', 'stat'], { timeoutMs: 15_000 })).stdout.includes('1 mons'),
      60_000,
      hint,
    );
  }
}

/**
 * Uploads a probe object (`_stack/probe/<uuid>`, a prefix of its own that no function handles)
 * and waits until the event bridge has received its notification. Returns the seconds it took,
 * or undefined after `timeoutMs`. An upload that fails (the store is down) is tried again.
 */
export async function probeDelivery(handle: StackHandle, timeoutMs: number): Promise<number | undefined> {
  const id = randomUUID();
  const started = Date.now();
  const deadline = started + timeoutMs;
  let uploaded = false;
  while (Date.now() < deadline) {
    try {
      if (!uploaded) {
        await handle.s3.send(new PutObjectCommand({ Bucket: handle.state.bucket, Key: PROBE_PREFIX + id, Body: 'probe' }), {
          abortSignal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())),
        });
        uploaded = true;
      }
      if ((await fetch(`${bridgeBase(handle.state)}/probes/${id}`, { signal: AbortSignal.timeout(2000) })).ok)
        return (Date.now() - started) / 1000;
    } catch {
      /* the store or the bridge is not answering yet */
    }
    await sleep(250);
  }
  return undefined;
}

/**
 * Starts radosgw again; in between, with no radosgw running, breaks the dead one's locks on the
 * persistent topics' queues so that the new one takes them over at its first queue check (30 s)
 * instead of after the lock lapses (90 s).
 */
export async function restartRadosgw(handle: StackHandle, log: ComponentLog, graceMs = 10_000): Promise<number> {
  return handle.processes.restart('radosgw', {
    graceMs,
    beforeStart: async () => {
      try {
        const broken = await breakNotificationQueueLocks(cephConfPath(handle.stackDir));
        if (broken.length) log('notification queue locks broken', { queues: broken });
      } catch (error) {
        // Not fatal: the lock lapses by itself 90 s after the dead radosgw last renewed it.
        log('could not break the notification queue locks', { error: error instanceof Error ? error.message : String(error) });
      }
    },
  });
}

export interface DeliveryCheck {
  /** Whether a probe's notification reached the bridge in the end. */
  delivered: boolean;
  /** Seconds until it did (or until the check gave up), from the start of the check. */
  seconds: number;
  /** radosgw's new pid, when it had to be restarted. */
  radosgwRestarted?: number;
}

/**
 * Checks the notification path end to end with a probe upload; when no notification arrives
 * within `probeTimeoutMs` and radosgw is the stack's own, restarts radosgw (data kept) and probes
 * again. `onRadosgwRestart` is told of that restart (the supervisor counts it).
 */
export async function ensureDelivery(
  handle: StackHandle,
  probeTimeoutMs: number,
  log: ComponentLog,
  onRadosgwRestart?: (pid: number) => void,
): Promise<DeliveryCheck> {
  const started = Date.now();
  const first = await probeDelivery(handle, probeTimeoutMs);
  const seconds = () => (Date.now() - started) / 1000;
  if (first !== undefined) return { delivered: true, seconds: seconds() };
  const bridgeUp = await fetch(`${bridgeBase(handle.state)}/health`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!bridgeUp || handle.state.backend !== 'rgw' || !handle.processes.readSpec('radosgw')) {
    log('notifications not delivered', { after_s: seconds(), bridge_up: bridgeUp });
    return { delivered: false, seconds: seconds() };
  }
  log('notifications stalled: restarting radosgw (the data is kept in the OSD)', { probe_timeout_s: probeTimeoutMs / 1000 });
  const pid = await restartRadosgw(handle, log);
  onRadosgwRestart?.(pid);
  await waitServing(handle, 'radosgw');
  // The new radosgw takes its queues over at its first queue check, 30 s after it starts.
  const second = await probeDelivery(handle, freshRadosgwTimeoutMs(handle));
  return { delivered: second !== undefined, seconds: seconds(), radosgwRestarted: pid };
}

export interface RestartReport {
  component: string;
  pid: number;
  /** Seconds until it served again. */
  servingAfterS: number;
  delivery?: DeliveryCheck;
}

/** `stack restart <name>`: refuses what must not be restarted, then restarts, waits and probes (see above). */
export async function restartComponent(
  handle: StackHandle,
  name: string,
  probeTimeoutMs: number,
  log: ComponentLog,
): Promise<RestartReport> {
  const refused = NOT_RESTARTABLE[name];
  if (refused) throw new RestartRefusedError(`${name} is not restarted: ${refused}`, 1);
  const known = handle.processes.recorded();
  if (!known.includes(name))
    throw new RestartRefusedError(
      `unknown component ${name}: the stack in ${handle.stackDir} runs ${known.filter((n) => !NOT_RESTARTABLE[n]).join(', ') || 'nothing restartable'}`,
      2,
    );
  const started = Date.now();
  const pid =
    name === 'radosgw' && handle.state.backend === 'rgw' ? await restartRadosgw(handle, log) : await handle.processes.restart(name);
  log('restarted', { component: name, pid });
  await waitServing(handle, name);
  const servingAfterS = (Date.now() - started) / 1000;
  if (!DELIVERY_PATH.has(name)) return { component: name, pid, servingAfterS };
  return { component: name, pid, servingAfterS, delivery: await checkDeliveryAfter(handle, name, probeTimeoutMs, log) };
}

/** How long a radosgw just started takes at most to deliver: its first queue check comes 30 s after it starts. */
function freshRadosgwTimeoutMs(handle: StackHandle): number {
  return Math.max(handle.readyTimeoutMs, 150_000);
}

/**
 * The notification path's check after `name` was restarted: after radosgw itself, a probe with
 * the time a new radosgw needs; after any other part of the path, `ensureDelivery`.
 */
export async function checkDeliveryAfter(
  handle: StackHandle,
  name: string,
  probeTimeoutMs: number,
  log: ComponentLog,
  onRadosgwRestart?: (pid: number) => void,
): Promise<DeliveryCheck> {
  if (name !== 'radosgw') return ensureDelivery(handle, probeTimeoutMs, log, onRadosgwRestart);
  const started = Date.now();
  const seconds = await probeDelivery(handle, freshRadosgwTimeoutMs(handle));
  return { delivered: seconds !== undefined, seconds: (Date.now() - started) / 1000 };
}
