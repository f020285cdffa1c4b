import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Bridge, startBridge } from '../../infra/event-bridge.ts';

/**
 * The event bridge against a fake Lambda endpoint (serverless-offline's Invoke API: POST
 * /2015-03-31/functions/<name>/invocations; a handler that threw answers 200 with
 * `X-Amz-Function-Error: Unhandled` and `{errorMessage, errorType, trace}`), a temporary queue
 * directory and a small serverless.yml.
 */
const STAGE = 'test';
const FIXTURE_YML = `service: vaultmend
provider:
  name: aws
  timeout: 5
functions:
  ingest:
    handler: functions/ingest.handler
    reservedConcurrency: 3
  cluster:
    handler: functions/cluster.handler
    reservedConcurrency: 1
  remediate:
    handler: functions/remediate.handler
    reservedConcurrency: 2
  reconcile:
    handler: functions/reconcile.handler
    reservedConcurrency: 1
    timeout: 1
`;

interface Call {
  fn: string;
  keys: string[];
  invocationType: string | undefined;
  started: number;
  /** How the fake answered: ok, failed, or abandoned (the client went away first). */
  result?: 'ok' | 'failed' | 'abandoned';
}

interface Behaviour {
  delayMs?: number;
  /** An error message: the handler throws it. */
  fail?: string;
  /** Do not answer until `release()`. */
  hold?: boolean;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** serverless-offline's Lambda endpoint, as far as the bridge uses it; counts invocations running per function. */
class FakeLambda {
  readonly calls: Call[] = [];
  readonly running = new Map<string, number>();
  readonly maxRunning = new Map<string, number>();
  behave: (fn: string, key: string, nth: number) => Behaviour = () => ({ delayMs: 5 });
  readonly #held: Array<() => void> = [];
  readonly server = createServer((req, res) => {
    this.#answer(req, res).catch(() => res.destroy());
  });
  port = 0;

  async start(port = 0): Promise<this> {
    this.port = await listen(this.server, port);
    return this;
  }

  /** Answers every held invocation. */
  release(): void {
    for (const answer of this.#held.splice(0)) answer();
  }

  succeeded(key: string): number {
    return this.calls.filter((c) => c.keys.includes(key) && c.result === 'ok').length;
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/2015-03-31\/functions\/vaultmend-test-([a-z]+)\/invocations$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      res.writeHead(404, { 'x-amzn-ErrorType': 'ResourceNotFoundException' }).end('{}');
      return;
    }
    const fn = match[1]!;
    const event = JSON.parse(await bodyOf(req)) as { Records: Array<{ s3: { object: { key: string } } }> };
    const keys = event.Records.map((r) => r.s3.object.key);
    const call: Call = { fn, keys, invocationType: req.headers['x-amz-invocation-type'] as string | undefined, started: Date.now() };
    this.calls.push(call);
    const nth = this.calls.filter((c) => c.fn === fn && c.keys[0] === keys[0]).length;
    const behaviour = this.behave(fn, keys[0]!, nth);
    const now = (this.running.get(fn) ?? 0) + 1;
    this.running.set(fn, now);
    this.maxRunning.set(fn, Math.max(now, this.maxRunning.get(fn) ?? 0));
    let done = false;
    const finish = (result: Call['result']) => {
      if (done) return;
      done = true;
      this.running.set(fn, (this.running.get(fn) ?? 1) - 1);
      call.result = result;
    };
    res.on('close', () => finish('abandoned'));
    if (behaviour.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (res.destroyed) return;
    if (behaviour.fail) {
      finish('failed');
      res
        .writeHead(200, { 'content-type': 'application/json', 'X-Amz-Function-Error': 'Unhandled' })
        .end(JSON.stringify({ errorMessage: behaviour.fail, errorType: 'Error', trace: ['Error: x', '    at handler'] }));
      return;
    }
    finish('ok');
    res.writeHead(200, { 'content-type': 'application/json' }).end('null');
  }
}

/** The alert webhook: collects what was posted. */
class FakeWebhook {
  readonly alerts: Array<Record<string, unknown>> = [];
  readonly server = createServer((req, res) => {
    bodyOf(req).then(
      (body) => {
        this.alerts.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200).end('ok');
      },
      () => res.destroy(),
    );
  });
  url = '';

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listen(this.server)}/hook`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An upload notification as Ceph RGW posts it, one record per key. */
function notification(...keys: string[]): string {
  return JSON.stringify({
    Records: keys.map((key) => ({
      eventVersion: '2.2',
      eventSource: 'ceph:s3',
      awsRegion: '',
      eventTime: new Date().toISOString(),
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'vaultmend' },
      requestParameters: { sourceIPAddress: '' },
      responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'r' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'vaultmend',
        bucket: { name: 'vaultmend-test', ownerIdentity: { principalId: 'vaultmend' }, arn: 'arn:aws:s3:::vaultmend-test' },
        object: { key, size: 1, eTag: '0', sequencer: '0' },
      },
    })),
  });
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every name in `dir`, a write's temporary file included (`all`), or only the finished files. */
const files = (dir: string, all = false): string[] => {
  try {
    return readdirSync(dir).filter((name) => all || !name.startsWith('.'));
  } catch {
    return [];
  }
};

describe('event bridge', () => {
  let dir: string;
  let yml: string;
  let lambda: FakeLambda;
  let webhook: FakeWebhook;
  const open: Bridge[] = [];
  let lines: Array<Record<string, unknown>>;

  const queueDir = () => join(dir, 'queue');
  const deadDir = () => join(dir, 'bridge-dead');

  async function bridge(extra: Record<string, string> = {}): Promise<Bridge & { url: string }> {
    const env = {
      BRIDGE_PORT: '0',
      OFFLINE_LAMBDA_PORT: String(lambda.port),
      STAGE,
      BRIDGE_QUEUE_DIR: queueDir(),
      BRIDGE_SERVERLESS_YML: yml,
      BRIDGE_RETRY_DELAYS_S: '0.05,0.05',
      ...extra,
    };
    const started = await startBridge(env, (message, fields = {}) => lines.push({ message, ...fields }));
    open.push(started);
    return Object.assign(started, { url: `http://127.0.0.1:${started.port}` });
  }

  async function post(url: string, body: string): Promise<Response> {
    return fetch(`${url}/events`, { method: 'POST', body, signal: AbortSignal.timeout(5_000) });
  }

  async function queueCounts(url: string): Promise<Record<string, { pending: number; running: number; dead: number }>> {
    const res = await fetch(`${url}/queue`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, { pending: number; running: number; dead: number }>;
  }

  const idle = async (url: string) => {
    const counts = await queueCounts(url);
    return Object.values(counts).every((c) => c.pending === 0 && c.running === 0) ? counts : undefined;
  };

  async function untilIdle(url: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await idle(url))) {
      if (Date.now() > deadline) throw new Error(`the queue did not drain: ${JSON.stringify(await queueCounts(url))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'event-bridge-'));
    yml = join(dir, 'serverless.yml');
    writeFileSync(yml, FIXTURE_YML);
    lines = [];
    lambda = await new FakeLambda().start();
    webhook = await new FakeWebhook().start();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
    await lambda.close();
    await webhook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never runs more than reservedConcurrency invocations of a function at once, and invokes each event once', async () => {
    lambda.behave = () => ({ delayMs: 30 });
    const b = await bridge();
    const raw = Array.from({ length: 30 }, (_, i) => `raw/orders/file-${i}.csv`);
    const manifests = Array.from({ length: 6 }, (_, i) => `manifests/orders-${i}/ingest.json`);
    const answers = await Promise.all([...raw, ...manifests].map((key) => post(b.url, notification(key))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    await untilIdle(b.url);

    expect(lambda.maxRunning.get('ingest')).toBe(3);
    expect(lambda.maxRunning.get('cluster')).toBe(1);
    for (const key of [...raw, ...manifests])
      expect(
        lambda.calls.filter((c) => c.keys.includes(key)),
        key,
      ).toHaveLength(1);
    expect(lambda.calls.every((c) => c.result === 'ok' && c.invocationType === 'RequestResponse')).toBe(true);
    // Each delivered event's file is gone; the operators' view agrees.
    expect(files(join(queueDir(), 'ingest'))).toEqual([]);
    expect(files(join(queueDir(), 'cluster'))).toEqual([]);
    expect(await queueCounts(b.url)).toEqual({
      ingest: { pending: 0, running: 0, dead: 0 },
      cluster: { pending: 0, running: 0, dead: 0 },
      remediate: { pending: 0, running: 0, dead: 0 },
      reconcile: { pending: 0, running: 0, dead: 0 },
    });
    const invoked = lines.filter((l) => l['message'] === 'invoked');
    expect(invoked).toHaveLength(36);
    expect(invoked.find((l) => (l['keys'] as string[]).includes('raw/orders/file-7.csv'))).toMatchObject({
      function: 'vaultmend-test-ingest',
      status: 200,
      outcome: 'succeeded',
      attempt: 1,
    });
    expect(invoked.every((l) => typeof l['duration_ms'] === 'number')).toBe(true);
  });

  it('writes each event to the queue before answering 200, and a restarted bridge delivers what was queued', async () => {
    lambda.behave = () => ({ hold: true });
    const first = await bridge();
    const keys = Array.from({ length: 8 }, (_, i) => `raw/orders/held-${i}.csv`);
    for (const key of keys) expect((await post(first.url, notification(key))).status).toBe(200);
    // Acknowledged means on disk.
    expect(files(join(queueDir(), 'ingest'))).toHaveLength(8);
    expect(files(join(queueDir(), 'ingest')).every((f) => /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f-]{36}\.json$/.test(f))).toBe(true);
    await until('three invocations running', () => lambda.calls.length === 3);
    expect((await queueCounts(first.url))['ingest']).toEqual({ pending: 5, running: 3, dead: 0 });

    await first.close();
    open.splice(open.indexOf(first), 1);
    expect(files(join(queueDir(), 'ingest'))).toHaveLength(8);

    const before = lambda.calls.length;
    lambda.behave = () => ({ delayMs: 5 });
    const second = await bridge();
    await untilIdle(second.url);
    const after = lambda.calls.slice(before);
    expect(after.map((c) => c.keys[0]).sort()).toEqual([...keys].sort());
    expect(after.every((c) => c.result === 'ok')).toBe(true);
    expect(files(join(queueDir(), 'ingest'))).toEqual([]);
  });

  it('keeps the attempts made across a restart, and sets aside what it cannot read', async () => {
    const bad = 'parts/orders/orders-0123456789abcdef0123/1.csv';
    lambda.behave = () => ({ fail: 'always' });
    mkdirSync(join(queueDir(), 'ingest'), { recursive: true });
    writeFileSync(join(queueDir(), 'ingest', '.tmp-cut-short.json.1'), '{"fun');
    writeFileSync(join(queueDir(), 'ingest', 'garbage.json'), 'not a queue record');
    const first = await bridge({ BRIDGE_RETRY_DELAYS_S: '0.4,0.05' });
    expect(files(join(queueDir(), 'ingest'), true)).toEqual([]);
    expect(files(join(deadDir(), 'ingest'))).toEqual(['garbage.json.unreadable']);
    expect((await queueCounts(first.url))['ingest']).toMatchObject({ dead: 1 });
    expect((await post(first.url, notification(bad))).status).toBe(200);
    await until('the first attempt recorded', () => {
      const [file] = files(join(queueDir(), 'ingest'));
      const record =
        file && (JSON.parse(readFileSync(join(queueDir(), 'ingest', file), 'utf8')) as { attempts: unknown[]; retry_at?: string });
      return record && record.attempts.length === 1 && record.retry_at !== undefined;
    });
    await first.close();
    open.splice(open.indexOf(first), 1);

    const second = await bridge({ BRIDGE_RETRY_DELAYS_S: '0.4,0.05' });
    await until('the dead letter', () => lines.some((l) => l['message'] === 'dead-letter'));
    expect(lambda.calls.map((c) => c.result)).toEqual(['failed', 'failed', 'failed']);
    // The second bridge waited for the retry time the first one recorded.
    expect(lambda.calls[1]!.started - lambda.calls[0]!.started).toBeGreaterThanOrEqual(390);
    const record = files(join(deadDir(), 'ingest')).find((f) => f.endsWith('.json'))!;
    expect(JSON.parse(readFileSync(join(deadDir(), 'ingest', record), 'utf8'))['attempts']).toHaveLength(3);
    expect((await queueCounts(second.url))['ingest']).toEqual({ pending: 0, running: 0, dead: 2 });
  });

  it('retries a failing invocation exactly twice, then writes the dead letter and posts a SEV2 alert', async () => {
    const bad = 'raw/orders/always-fails.csv';
    lambda.behave = (fn, key) => (key === bad ? { fail: "Conversion Error: Could not convert string 'secret-value' to INT32" } : {});
    const b = await bridge({ ALERT_WEBHOOK_URL: webhook.url });
    expect((await post(b.url, notification(bad))).status).toBe(200);
    await until('the dead letter', () => lines.some((l) => l['message'] === 'dead-letter'));

    const calls = lambda.calls.filter((c) => c.keys.includes(bad));
    expect(calls.map((c) => c.result)).toEqual(['failed', 'failed', 'failed']);
    // Each retry waited its delay (50 ms; timers may fire a millisecond early).
    expect(calls[1]!.started - calls[0]!.started).toBeGreaterThanOrEqual(45);
    expect(calls[2]!.started - calls[1]!.started).toBeGreaterThanOrEqual(45);

    const [file] = files(join(deadDir(), 'ingest'));
    const record = JSON.parse(readFileSync(join(deadDir(), 'ingest', file!), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ function: 'ingest', function_name: 'vaultmend-test-ingest', keys: [bad], queue_file: file });
    expect((record['event'] as { Records: Array<{ s3: { object: { key: string } } }> }).Records[0]!.s3.object.key).toBe(bad);
    const attempts = record['attempts'] as Array<Record<string, unknown>>;
    expect(attempts.map((a) => a['attempt'])).toEqual([1, 2, 3]);
    for (const a of attempts) {
      expect(a).toMatchObject({ status: 200, error: expect.stringMatching(/^Unhandled: Error: Conversion Error/) });
      expect(Date.parse(a['ended_at'] as string)).toBeGreaterThanOrEqual(Date.parse(a['started_at'] as string));
    }
    // Row values in an error message stay out of the record.
    expect(JSON.stringify(record)).not.toContain('secret-value');
    expect(files(join(queueDir(), 'ingest'))).toEqual([]);
    expect((await queueCounts(b.url))['ingest']).toEqual({ pending: 0, running: 0, dead: 1 });
    expect(lines.find((l) => l['message'] === 'dead-letter')).toMatchObject({
      function: 'vaultmend-test-ingest',
      keys: [bad],
      attempts: 3,
    });

    const alert = await until('the alert', () => webhook.alerts[0]);
    expect(alert).toMatchObject({ severity: 'SEV2', component: 'event-bridge', reason: 'invocation-failed', source: 'vaultmend' });
    expect(alert['summary']).toContain(bad);
    expect(alert['custom_details']).toMatchObject({ function: 'vaultmend-test-ingest', keys: [bad], attempts: 3 });
    expect(webhook.alerts).toHaveLength(1);
  });

  it('does not dead-letter an event whose retry succeeds', async () => {
    const flaky = 'results/orders-1/c-1.json';
    lambda.behave = (fn, key, nth) => (nth === 1 ? { fail: 'transient' } : {});
    const b = await bridge({ ALERT_WEBHOOK_URL: webhook.url });
    expect((await post(b.url, notification(flaky))).status).toBe(200);
    await until('the retry', () => lambda.succeeded(flaky) === 1);
    await untilIdle(b.url);
    expect(lambda.calls.map((c) => [c.fn, c.result])).toEqual([
      ['reconcile', 'failed'],
      ['reconcile', 'ok'],
    ]);
    expect(files(join(deadDir(), 'reconcile'))).toEqual([]);
    expect(files(join(queueDir(), 'reconcile'))).toEqual([]);
    expect(lines.filter((l) => l['message'] === 'invoked').map((l) => [l['attempt'], l['outcome'], l['next']])).toEqual([
      [1, 'failed', 'retry'],
      [2, 'succeeded', undefined],
    ]);
    expect(webhook.alerts).toEqual([]);
  });

  it('counts an invocation that outlives the function timeout as a failed attempt', async () => {
    const slow = 'reviewed/orders-1/c-1.json';
    lambda.behave = () => ({ delayMs: 3_000 });
    const b = await bridge({ BRIDGE_RETRY_DELAYS_S: '0.05', BRIDGE_INVOKE_GRACE_S: '0.2' });
    expect((await post(b.url, notification(slow))).status).toBe(200);
    await until('the dead letter', () => lines.some((l) => l['message'] === 'dead-letter'), 8_000);
    const [file] = files(join(deadDir(), 'reconcile'));
    const record = JSON.parse(readFileSync(join(deadDir(), 'reconcile', file!), 'utf8')) as { attempts: Array<{ error: string }> };
    expect(record.attempts.map((a) => a.error)).toEqual([
      "no answer within 1.2 s (the function's timeout and a grace)",
      "no answer within 1.2 s (the function's timeout and a grace)",
    ]);
  });

  it('acknowledges and ignores a malformed notification, and one with no routed key', async () => {
    const b = await bridge();
    for (const body of ['not json', '{"Records": []}', '{"Records": [{"s3": {}}]}']) {
      const res = await post(b.url, body);
      expect([res.status, await res.text()]).toEqual([200, 'ignored']);
    }
    expect((await post(b.url, notification('clean/orders/b/part-0.parquet'))).status).toBe(200);
    expect(lines.filter((l) => l['message'] === 'notification refused')).toHaveLength(3);
    expect(lines.find((l) => l['message'] === 'no route for key')).toMatchObject({ key: 'clean/orders/b/part-0.parquet' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lambda.calls).toEqual([]);
    for (const fn of ['ingest', 'cluster', 'remediate', 'reconcile']) expect(files(join(queueDir(), fn))).toEqual([]);
    expect((await fetch(`${b.url}/health`)).status).toBe(200);
  });

  it('answers 503 when an event cannot be written, and keeps no part of that notification', async () => {
    const b = await bridge();
    // The ingest queue's directory replaced by a file: every write there fails.
    rmSync(join(queueDir(), 'ingest'), { recursive: true });
    writeFileSync(join(queueDir(), 'ingest'), '');
    const res = await post(b.url, notification('manifests/orders-1/ingest.json', 'raw/orders/a.csv'));
    expect(res.status).toBe(503);
    expect(files(join(queueDir(), 'cluster'))).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lambda.calls).toEqual([]);
    expect(lines.find((l) => l['message'] === 'queue write failed; the store will redeliver')).toBeDefined();
  });

  it('waits while the Lambda endpoint is down, without counting attempts, and delivers once it is up', async () => {
    const port = lambda.port;
    await lambda.close();
    const b = await bridge({ OFFLINE_LAMBDA_PORT: String(port) });
    expect((await post(b.url, notification('work/orders-1/clusters/c-1.json'))).status).toBe(200);
    await until('the endpoint seen down', () => lines.find((l) => l['message'] === 'lambda endpoint unreachable; the queue waits'));
    expect((await queueCounts(b.url))['remediate']).toEqual({ pending: 1, running: 0, dead: 0 });
    lambda = await new FakeLambda().start(port);
    await until('the delivery', () => lambda.succeeded('work/orders-1/clusters/c-1.json') === 1, 15_000);
    // The bridge logs the invocation once the endpoint's answer is in: after the fake has counted it.
    await untilIdle(b.url);
    await until('the invocation logged', () => lines.some((l) => l['message'] === 'invoked'));
    expect(lines.filter((l) => l['message'] === 'invoked').map((l) => [l['attempt'], l['outcome']])).toEqual([[1, 'succeeded']]);
    expect(files(deadDir())).toEqual([]);
  });
});
