import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { WebhookAlertSink } from '../lib/alerts/alerts.ts';
import { decodeEventKey, StoreS3EventSchema, type StoreS3Event } from '../lib/events/s3-event.ts';
import { functionName, PROBE_PREFIX, ROUTES, routeFor, type Route } from '../lib/flow/routes.ts';
import { deadLetterAlert } from './bridge/dead-letter.ts';
import { Dispatcher, type LaneCounts } from './bridge/dispatcher.ts';
import { readFunctionLimits } from './bridge/function-limits.ts';
import { lambdaInvoker } from './bridge/invoke.ts';
import { type BridgeLog, stdoutLog } from './bridge/log.ts';
import { type QueuedEvent, QueueStore } from './bridge/queue-store.ts';
import { loadBridgeSettings } from './bridge/settings.ts';

/**
 * The local stand-in for S3 -> Lambda: the store POSTs its upload notifications here, and the
 * bridge does what Lambda's asynchronous invocation does for S3. Each routed event is written to
 * a durable per-function queue before the store gets its 200 (a write that fails answers 503:
 * the store delivers again); the queue is read back at start, so a restart loses nothing. At
 * most `reservedConcurrency` (serverless.yml) invocations of a function run at once, through
 * serverless-offline's Lambda endpoint (RequestResponse); a failed one is retried twice, then
 * dead-lettered with a SEV2 alert (infra/bridge/dispatcher.ts). Records are forwarded as the
 * store sent them; the handlers normalise them.
 */
const MAX_BODY = 8 << 20;

/** The functions notifications are routed to. */
const ROUTED: readonly Route['fn'][] = [...new Set(ROUTES.map((r) => r.fn))];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('notification body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function keysOf(event: StoreS3Event): string[] {
  return event.Records.map((r) => decodeEventKey(r.s3.object.key, r.eventSource));
}

/** Splits one notification into one event per routed function; unrouted records are dropped with a log line. */
export function routeRecords(event: StoreS3Event, probes: Set<string>, log: BridgeLog = stdoutLog): Map<Route['fn'], StoreS3Event> {
  const byFunction = new Map<Route['fn'], StoreS3Event>();
  for (const record of event.Records) {
    const key = decodeEventKey(record.s3.object.key, record.eventSource);
    if (key.startsWith(PROBE_PREFIX)) {
      probes.add(key);
      log('stack probe received', { key });
      continue;
    }
    const route = routeFor(key);
    if (!route) {
      log('no route for key', { key });
      continue;
    }
    const group = byFunction.get(route.fn) ?? { Records: [] };
    group.Records.push(record);
    byFunction.set(route.fn, group);
  }
  return byFunction;
}

/** A running bridge: where it listens, its queue's counts, and how to stop it (queued events stay on disk). */
export interface Bridge {
  port: number;
  counts(): Record<string, LaneCounts>;
  close(): Promise<void>;
}

/**
 * Starts the bridge: reads each routed function's limits from serverless.yml, loads the pending
 * queue, and listens on BRIDGE_PORT (0: a free port, see `port`). Endpoints: POST (any path) a
 * notification; GET /health; GET /queue, `{<fn>: {pending, running, dead}}`; GET /probes/<key>.
 */
export async function startBridge(env: NodeJS.ProcessEnv = process.env, log: BridgeLog = stdoutLog): Promise<Bridge> {
  const settings = loadBridgeSettings(env);
  const limits = readFunctionLimits(settings.BRIDGE_SERVERLESS_YML, ROUTED);
  const queue = new QueueStore(settings.BRIDGE_QUEUE_DIR, settings.BRIDGE_DEAD_DIR);
  const invoker = lambdaInvoker(settings.OFFLINE_LAMBDA_PORT, settings.S3_REGION);
  const alerts = settings.ALERT_WEBHOOK_URL
    ? new WebhookAlertSink(settings.ALERT_WEBHOOK_URL, (message) => log('alert not delivered', { error: message }))
    : undefined;
  const name = (fn: string) => functionName(fn as Route['fn'], settings.STAGE);
  const dispatcher = new Dispatcher({
    queue,
    limits,
    invoke: invoker.invoke,
    functionName: name,
    retryDelaysS: settings.BRIDGE_RETRY_DELAYS_S,
    graceS: settings.BRIDGE_INVOKE_GRACE_S,
    log,
    onDeadLetter: async (record, path) => {
      await alerts?.post(deadLetterAlert(record, path));
    },
  });
  const loaded = await queue.load(ROUTED);
  for (const file of loaded.unreadable) log('queue file unreadable: moved to the dead letters', { record: file });
  await dispatcher.countDeadLetters();
  for (const entry of loaded.events) dispatcher.restore(entry);
  const probes = new Set<string>();

  async function accept(raw: string, res: ServerResponse): Promise<void> {
    let parsed: StoreS3Event;
    try {
      parsed = StoreS3EventSchema.parse(JSON.parse(raw));
    } catch (error) {
      // A malformed notification cannot get better by retrying: accept it and say so.
      log('notification refused', { error: error instanceof Error ? error.message : String(error), body: raw.slice(0, 2000) });
      res.writeHead(200).end('ignored');
      return;
    }
    const written: QueuedEvent[] = [];
    try {
      for (const [fn, event] of routeRecords(parsed, probes, log)) written.push(await queue.add(fn, event, keysOf(event)));
    } catch (error) {
      // Not acknowledged: the store delivers the whole notification again, so none of it may stay queued.
      await Promise.all(written.map((entry) => queue.discard(entry).catch(() => undefined)));
      log('queue write failed; the store will redeliver', { error: error instanceof Error ? error.message : String(error) });
      res.writeHead(503).end('retry');
      return;
    }
    for (const entry of written) {
      log('queued', { function: name(entry.fn), keys: entry.record.keys, file: entry.file });
      dispatcher.submit(entry);
    }
    res.writeHead(200).end('ok');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200).end('ok');
      return;
    }
    if (req.method === 'GET' && req.url === '/queue') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(dispatcher.counts()));
      return;
    }
    if (req.method === 'GET' && req.url?.startsWith('/probes/')) {
      const key = PROBE_PREFIX + decodeURIComponent(req.url.slice('/probes/'.length));
      res.writeHead(probes.has(key) ? 200 : 404).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    await accept(await readBody(req), res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log('notification not accepted; the store will redeliver', { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) res.writeHead(503).end('retry');
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(settings.BRIDGE_PORT, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await dispatcher.close();
    invoker.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const limitsLine = Object.fromEntries([...limits].map(([fn, l]) => [fn, l.reservedConcurrency]));
  log('listening', { port, queue: settings.BRIDGE_QUEUE_DIR, reserved_concurrency: limitsLine, pending: loaded.events.length });

  return {
    port,
    counts: () => dispatcher.counts(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await dispatcher.close();
      invoker.close();
      await closed;
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const bridge = await startBridge();
  const stop = () => {
    bridge.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
