import dgram from 'node:dgram';
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { loadRuntimeConfig } from '../../lib/config.ts';
import { keys } from '../../lib/keys.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { modelFromConfig } from '../../lib/remediate/model/model-from-config.ts';
import { remediateCluster, settledResult } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import type { ClusterResult } from '../../lib/vault/cluster-result.ts';
import { ENGINE, ingestAndCluster } from '../support/local-batch.ts';
import { DEFAULT_MODEL, queue, startOllamaDouble, type ScriptedAnswer } from '../support/ollama-double.ts';

/**
 * Egress at the socket layer, not only at the model client's guard: every client socket this
 * process opens during a whole batch with the model tier on (ingest -> cluster -> remediate with
 * the Ollama double as the model -> reconcile) is recorded, and each must go to loopback or a
 * unix socket.
 *
 * Three hooks, so that no way of opening a socket in this process goes unseen:
 * - `net.Socket.prototype.connect` wrapped: net.connect, `new Socket().connect`, tls.connect
 *   (TLSSocket is a net.Socket) and undici (fetch) all pass through it, with their arguments;
 * - the diagnostics channel `net.client.socket` (every socket net.connect creates), followed to
 *   its `connectionAttempt`, `lookup` and `connect` events;
 * - the undici channels `undici:client:beforeConnect` / `undici:client:connectError` (fetch);
 * - and `dgram.Socket.prototype.send` / `connect` for UDP.
 *
 * What these hooks cannot see, by construction: sockets of other processes and threads. The
 * sandbox runs functions in a child process (isolated-vm) — a socket opened there would not pass
 * through this process's net module; it needs none, because the isolate has no Node API at all
 * (no require, fetch, process, WebSocket: asserted below, and tests/unit/hostile-functions.test.ts
 * runs the `network-timer` category — fetch to the metadata endpoint, WebSocket, timers — against
 * the gate and the bare isolate). Native code (DuckDB, faiss, getaddrinfo in libuv's pool) does
 * not go through Node's sockets either; DuckDB runs with extension autoinstall and autoload off
 * (lib/engine/duckdb.ts), so it has no reason to reach the network.
 */

interface Destination {
  layer: string;
  host?: string;
  port?: number;
  path?: string;
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

const isLocal = (d: Destination) => d.path !== undefined || (d.host !== undefined && isLoopbackHost(d.host));

/** What a `Socket#connect(...)` call names: its options, (port, host) or a pipe path (net.connect passes [options, cb]). */
function connectTarget(args: unknown[]): Omit<Destination, 'layer'> {
  const a = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  const first = a[0];
  if (first !== null && typeof first === 'object') {
    const o = first as { host?: unknown; port?: unknown; path?: unknown };
    if (o.path !== undefined) return { path: String(o.path) };
    return { host: typeof o.host === 'string' ? o.host : 'localhost', port: Number(o.port) };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { host: typeof a[1] === 'string' ? a[1] : 'localhost', port: Number(first) };
}

/** What a `dgram.Socket#send(...)` call names: (msg, port, address) or (msg, offset, length, port, address). */
function sendTarget(args: unknown[]): Omit<Destination, 'layer'> {
  const long = typeof args[1] === 'number' && typeof args[2] === 'number' && typeof args[3] === 'number';
  const [port, address] = long ? [args[3], args[4]] : [args[1], args[2]];
  if (typeof port !== 'number') return { host: '(connected peer)' };
  return { host: typeof address === 'string' ? address : 'localhost', port };
}

type Listener = (message: unknown) => void;

/** Records every client socket destination from install() to uninstall(). */
class SocketRecorder {
  readonly seen: Destination[] = [];
  private readonly undo: (() => void)[] = [];

  install(): this {
    const record = (d: Destination) => this.seen.push(d);

    const originalConnect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      record({ layer: 'Socket.prototype.connect', ...connectTarget(args) });
      return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof originalConnect;
    this.undo.push(() => {
      net.Socket.prototype.connect = originalConnect;
    });

    const originalSend = dgram.Socket.prototype.send;
    dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
      record({ layer: 'dgram.send', ...sendTarget(args) });
      return (originalSend as (...a: unknown[]) => void).apply(this, args);
    } as typeof originalSend;
    const originalUdpConnect = dgram.Socket.prototype.connect;
    dgram.Socket.prototype.connect = function (this: dgram.Socket, ...args: unknown[]) {
      record({ layer: 'dgram.connect', host: typeof args[1] === 'string' ? args[1] : 'localhost', port: Number(args[0]) });
      return (originalUdpConnect as (...a: unknown[]) => void).apply(this, args);
    } as typeof originalUdpConnect;
    this.undo.push(() => {
      dgram.Socket.prototype.send = originalSend;
      dgram.Socket.prototype.connect = originalUdpConnect;
    });

    const channels: [string, Listener][] = [
      [
        'net.client.socket',
        (message) => {
          const { socket } = message as { socket: net.Socket };
          socket.on('connectionAttempt', (ip: string, port: number) => record({ layer: 'net.client.socket', host: ip, port }));
          socket.on('lookup', (error: Error | null, address: string) => {
            if (!error) record({ layer: 'net.client.socket:lookup', host: address });
          });
          socket.once('connect', () => {
            if (socket.remoteAddress === undefined) record({ layer: 'net.client.socket:connect', path: '(unix socket)' });
            else record({ layer: 'net.client.socket:connect', host: socket.remoteAddress, port: socket.remotePort ?? 0 });
          });
        },
      ],
      [
        'undici:client:beforeConnect',
        (message) => {
          const { connectParams } = message as { connectParams: { hostname: string; port: string | number } };
          record({ layer: 'undici:client:beforeConnect', host: connectParams.hostname, port: Number(connectParams.port) });
        },
      ],
      [
        'undici:client:connectError',
        (message) => {
          const { connectParams } = message as { connectParams: { hostname: string; port: string | number } };
          record({ layer: 'undici:client:connectError', host: connectParams.hostname, port: Number(connectParams.port) });
        },
      ],
    ];
    for (const [name, listener] of channels) {
      diagnosticsChannel.subscribe(name, listener);
      this.undo.push(() => diagnosticsChannel.unsubscribe(name, listener));
    }
    return this;
  }

  uninstall(): void {
    for (const undo of this.undo.splice(0).reverse()) undo();
  }

  nonLocal(): Destination[] {
    return this.seen.filter((d) => !isLocal(d));
  }
}

/** Waits for a socket pointed at an unroutable address to give up (it never connects: TEST-NET-1). */
async function abandon(socket: net.Socket): Promise<void> {
  socket.on('error', () => {});
  socket.setTimeout(200, () => socket.destroy());
  // Not events.once: it rejects on the 'error' the refused or unreachable attempt emits.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const limit = new Promise((resolve) => setTimeout(resolve, 2_000).unref());
  await Promise.race([closed, limit]);
  socket.destroy();
}

/** TEST-NET-1 (RFC 5737): never routed, so an attempt there can be made and never reaches anyone. */
const UNROUTABLE = '192.0.2.1';
/** Port 80: fetch refuses the spec's "bad ports" (9, 1, ...) before any socket, which would test nothing. */
const PORT = 80;

describe('the socket recorder', () => {
  it('catches deliberate attempts to a non-local address through net, tls, fetch and dgram', async () => {
    const recorder = new SocketRecorder().install();
    try {
      await abandon(net.connect({ host: UNROUTABLE, port: PORT }));
      await abandon(new net.Socket().connect(PORT, UNROUTABLE));
      await abandon(tls.connect({ host: UNROUTABLE, port: PORT, servername: 'example.invalid' }));
      await fetch(`http://${UNROUTABLE}:${PORT}/`, { signal: AbortSignal.timeout(300) }).catch(() => undefined);
      const udp = dgram.createSocket('udp4');
      udp.on('error', () => {});
      await new Promise<void>((resolve) => udp.send('x', PORT, UNROUTABLE, () => resolve()));
      udp.close();
    } finally {
      recorder.uninstall();
    }
    const layers = new Set(recorder.nonLocal().map((d) => d.layer));
    expect(recorder.nonLocal().every((d) => d.host === UNROUTABLE)).toBe(true);
    // net.connect, new Socket().connect, tls.connect and fetch: four through the prototype.
    expect(recorder.seen.filter((d) => d.layer === 'Socket.prototype.connect' && d.host === UNROUTABLE)).toHaveLength(4);
    for (const layer of ['net.client.socket', 'undici:client:beforeConnect', 'dgram.send']) expect(layers, layer).toContain(layer);
    // And uninstalled, it records nothing more.
    const before = recorder.seen.length;
    await abandon(net.connect({ host: UNROUTABLE, port: PORT }));
    expect(recorder.seen).toHaveLength(before);
  });

  it('takes loopback and unix sockets as local, everything else as not', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['192.0.2.1', '10.0.0.1', '0.0.0.0', '::', '::ffff:8.8.8.8', 'localhost.evil.example', 'example.com', ''])
      expect(isLoopbackHost(host), host).toBe(false);
    expect(isLocal({ layer: 'x', path: '/tmp/s.sock' })).toBe(true);
    expect(isLocal({ layer: 'x' })).toBe(false);
  });
});

const CONTRACT = {
  stream: 'ledger',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' },
    { name: 'account', type: 'string', pattern: '[0-9]{4}-[0-9]{4}', pii: true },
  ],
};
/** Lower-case letters and a space where the pattern wants upper case and a dash: no catalog entry does both, the model's function does. */
const CSV = 'id,code,account\n1,abc 1234,1111-2222\n2,xyz 0042,1111-2222\n3, qrs 7777,3333-4444\n4,ABC-0001,3333-4444\n';
const GOOD: ScriptedAnswer = {
  kind: 'json',
  body: {
    transformation: 'x => x.trim().toUpperCase().replace(" ", "-")',
    confidence_score: 0.9,
    reasoning: 'upper-case the letters and join with a dash',
    pattern_type: 'separator',
  },
};

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = new Sandbox();
});
afterAll(() => sandbox.dispose());

describe('egress during a whole batch with the model tier on', () => {
  it('opens sockets to loopback only: ingest, cluster, remediate through the model, reconcile', async () => {
    const recorder = new SocketRecorder().install();
    const double = await startOllamaDouble({ script: queue(GOOD) });
    const batch = await ingestAndCluster(CONTRACT, 'ledger', CSV);
    const results: ClusterResult[] = [];
    try {
      // The model tier as the functions build it from their environment.
      const model = modelFromConfig(
        loadRuntimeConfig({ OLLAMA_HOST: double.url, OLLAMA_MODEL: DEFAULT_MODEL.name, OLLAMA_TIMEOUT_MS: '5000', OLLAMA_RETRIES: '0' }),
      );
      expect(model).toBeDefined();
      expect(batch.clusters.length).toBeGreaterThan(0);
      for (const spec of batch.clusters) {
        const outcome = await remediateCluster(
          { store: batch.store, workDir: batch.workDir, engine: ENGINE, sandbox, threshold: 0.75, model },
          keys.cluster(batch.batch, spec.cluster),
        );
        results.push(settledResult(outcome));
      }
      const reconciled = await reconcileOnce(
        {
          store: batch.store,
          alerts: new LogAlertSink(() => {}),
          keys: new VaultKeyStore(batch.store),
          workDir: batch.workDir,
          engine: ENGINE,
          auditRetentionDays: 1,
        },
        batch.batch,
      );
      expect(reconciled).toMatchObject({ status: 'reconciled', manifest: { status: 'promoted' } });
    } finally {
      recorder.uninstall();
      await double.close();
      batch.cleanup();
    }
    // The model path really ran: asked, and its function applied.
    expect(double.chats.length).toBeGreaterThanOrEqual(1);
    expect(results).toContainEqual(expect.objectContaining({ column: 'code', tier: 'model', disposition: 'fixed' }));
    // The hook really saw the model's connections (to the double on 127.0.0.1) ...
    const port = Number(new URL(double.url).port);
    expect(recorder.seen.length).toBeGreaterThan(0);
    expect(recorder.seen).toContainEqual({ layer: 'Socket.prototype.connect', host: '127.0.0.1', port });
    expect(recorder.seen).toContainEqual(expect.objectContaining({ layer: 'undici:client:beforeConnect', host: '127.0.0.1', port }));
    expect(recorder.seen).toContainEqual({ layer: 'net.client.socket:connect', host: '127.0.0.1', port });
    // ... and nothing else: every destination loopback or a unix socket.
    expect(recorder.nonLocal()).toEqual([]);
  }, 60_000);

  it('gives the sandboxed function no way to open a socket: no require, fetch, process or WebSocket in the isolate', async () => {
    const probe = `x => [typeof require, typeof fetch, typeof process, typeof WebSocket, typeof XMLHttpRequest, typeof globalThis.net].join(',')`;
    const result = await sandbox.apply(probe, ['a']);
    expect(result).toMatchObject({ stopped: false, outputs: [Array(6).fill('undefined').join(',')] });
  });
});
