import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { parseEnv } from '../lib/config.ts';
import { decodeEventKey, StoreS3EventSchema, type StoreS3Event } from '../lib/events/s3-event.ts';
import { functionName, PROBE_PREFIX, routeFor, type Route } from '../lib/flow/routes.ts';

/**
 * The local stand-in for S3 -> Lambda: the store POSTs its upload notifications here and the
 * bridge invokes the routed function through serverless-offline's Lambda endpoint
 * (InvocationType Event, as S3 does). Records are forwarded as the store sent them; the
 * handlers normalise them. A failed invocation answers 503, so a persistent RGW topic or
 * MinIO's queue delivers it again later.
 */
const BridgeEnv = z.object({
  BRIDGE_PORT: z.coerce.number().int().min(1).max(65535).default(8787),
  OFFLINE_LAMBDA_PORT: z.coerce.number().int().min(1).max(65535).default(3002),
  STAGE: z.string().default('local'),
  S3_REGION: z.string().default('us-east-1'),
});

const MAX_BODY = 8 << 20;

function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service: 'event-bridge', message, ...fields })}\n`);
}

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

/** Splits one notification into one event per routed function; unrouted records are dropped with a log line. */
export function routeRecords(event: StoreS3Event, probes: Set<string>): Map<Route['fn'], StoreS3Event> {
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

export function startBridge(env: NodeJS.ProcessEnv = process.env) {
  const settings = parseEnv(BridgeEnv, env);
  const lambda = new LambdaClient({
    endpoint: `http://127.0.0.1:${settings.OFFLINE_LAMBDA_PORT}`,
    region: settings.S3_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const probes = new Set<string>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200).end('ok');
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
    const raw = await readBody(req);
    let parsed: StoreS3Event;
    try {
      parsed = StoreS3EventSchema.parse(JSON.parse(raw));
    } catch (error) {
      // A malformed notification cannot get better by retrying: accept it and say so.
      log('notification refused', { error: error instanceof Error ? error.message : String(error), body: raw.slice(0, 2000) });
      res.writeHead(200).end('ignored');
      return;
    }
    for (const [fn, event] of routeRecords(parsed, probes)) {
      const name = functionName(fn, settings.STAGE);
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
      );
      log('invoked', {
        function: name,
        status: out.StatusCode,
        keys: event.Records.map((r) => decodeEventKey(r.s3.object.key, r.eventSource)),
      });
    }
    res.writeHead(200).end('ok');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log('invocation failed; the store will redeliver', { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) res.writeHead(503).end('retry');
    });
  });
  server.listen(settings.BRIDGE_PORT, '127.0.0.1', () => log('listening', { port: settings.BRIDGE_PORT }));
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = startBridge();
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
