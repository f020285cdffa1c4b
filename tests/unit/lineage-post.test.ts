import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../lib/config.ts';
import { EgressRefusedError } from '../../lib/errors.ts';
import { buildRunEvent } from '../../lib/lineage/build-run-event.ts';
import { LineageEmitter, type LineageProblem } from '../../lib/lineage/lineage-emitter.ts';
import type { LineageRun } from '../../lib/lineage/lineage-run.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { findObject } from '../../lib/vault/vault-object.ts';
import { openLineageErrors } from '../support/openlineage-validator.ts';

/**
 * The POST of run events to OPENLINEAGE_URL, against a small OpenLineage endpoint on loopback (a
 * real socket): each new event is posted once, a redelivery not again; a failing or silent
 * endpoint is reported within the timeout and never loses the vault copy; an endpoint outside the
 * perimeter is refused before any connection.
 */
type Mode = 'ok' | 'error' | 'silent';
let mode: Mode = 'ok';
const received: Array<{ method: string; url: string; type: string | undefined; body: unknown }> = [];
let server: Server;
let endpoint: string;
let dir: string;
let store: FileObjectStore;
const problems: LineageProblem[] = [];

function answer(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      type: req.headers['content-type'],
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
    });
    if (mode === 'silent') return; // never answers: the client's timeout must end the POST
    res.writeHead(mode === 'ok' ? 201 : 500, { 'content-type': 'application/json' }).end('{}');
  });
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/lineage`;
  dir = mkdtempSync(join(tmpdir(), 'vaultmend-lineage-post-'));
  store = new FileObjectStore(dir);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  mode = 'ok';
  received.length = 0;
  problems.length = 0;
});

const emitter = (timeoutMs = 2_000) => new LineageEmitter({ store, endpoint, timeoutMs, report: (p) => problems.push(p) });
const run = (n: number): LineageRun => ({ step: 'cluster', batch: `orders-${String(n).padStart(20, '0')}` });
const start = (r: LineageRun) => buildRunEvent({ eventType: 'START', eventTime: new Date('2026-12-01T10:00:00Z'), run: r });

describe('posting run events to OPENLINEAGE_URL', () => {
  it('POSTs each new event once as JSON, and a redelivered event not again', async () => {
    const lineage = emitter();
    const event = start(run(1));
    expect(openLineageErrors(event)).toEqual([]);
    expect(await lineage.emit(run(1), event)).toBe('written');
    await lineage.flush();
    expect(received).toEqual([{ method: 'POST', url: '/api/v1/lineage', type: 'application/json', body: event }]);
    expect(await lineage.emit(run(1), start(run(1)))).toBe('exists');
    await lineage.flush();
    expect(received).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it('reports an endpoint that answers 500, and keeps the vault copy', async () => {
    mode = 'error';
    const lineage = emitter();
    const event = start(run(2));
    expect(await lineage.emit(run(2), event)).toBe('written');
    await lineage.flush();
    expect(received).toHaveLength(1);
    expect(problems).toEqual([
      {
        kind: 'post-failed',
        key: `lineage/${run(2).batch}/vaultmend.cluster.START.json`,
        message: expect.stringContaining('answered 500'),
      },
    ]);
    expect(await findObject(store, vaultObjects.lineageEvent.at(run(2).batch, 'vaultmend.cluster', 'START'))).toEqual(event);
  });

  it('gives up on an endpoint that never answers after the timeout, without holding the step', async () => {
    mode = 'silent';
    const lineage = emitter(300);
    const began = performance.now();
    expect(await lineage.emit(run(3), start(run(3)))).toBe('written');
    // The write returns before the POST ends: the step goes on while the POST waits.
    expect(performance.now() - began).toBeLessThan(300);
    await lineage.flush();
    const waited = performance.now() - began;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(3_000);
    expect(received).toHaveLength(1);
    expect(problems).toEqual([
      { kind: 'post-failed', key: expect.any(String), message: expect.stringContaining('no answer within 300 ms') },
    ]);
    expect(await findObject(store, vaultObjects.lineageEvent.at(run(3).batch, 'vaultmend.cluster', 'START'))).toBeDefined();
  });

  it('reports an event that does not fit its schema instead of writing or posting it', async () => {
    const lineage = emitter();
    const broken = { ...start(run(4)), eventTime: 'yesterday' };
    expect(await lineage.emit(run(4), broken)).toBe('failed');
    await lineage.flush();
    expect(problems).toEqual([{ kind: 'write-failed', key: expect.any(String), message: expect.stringContaining('eventTime') }]);
    expect(received).toEqual([]);
    expect(await store.exists(`lineage/${run(4).batch}/vaultmend.cluster.START.json`)).toBe(false);
  });
});

describe('the endpoint stays inside the perimeter', () => {
  // 203.0.113.0/24 is TEST-NET-3 (documentation only): nothing is ever sent there, the check refuses it first.
  it('refuses a public address or an unlisted name, before any connection', () => {
    expect(() => new LineageEmitter({ store, endpoint: 'http://203.0.113.5/api/v1/lineage', report: () => {} })).toThrow(
      EgressRefusedError,
    );
    expect(() => loadRuntimeConfig({ OPENLINEAGE_URL: 'http://203.0.113.5/api/v1/lineage' })).toThrow(
      /OPENLINEAGE_URL: refused to connect to "203\.0\.113\.5".*OPENLINEAGE_ALLOW_HOSTS/,
    );
    expect(() => loadRuntimeConfig({ OPENLINEAGE_URL: 'http://marquez.example/api/v1/lineage' })).toThrow(/OPENLINEAGE_URL/);
    expect(() => loadRuntimeConfig({ OPENLINEAGE_URL: 'ftp://127.0.0.1/x' })).toThrow(/OPENLINEAGE_URL/);
  });

  it('accepts loopback, private addresses and allow-listed names', () => {
    expect(loadRuntimeConfig({ OPENLINEAGE_URL: endpoint }).OPENLINEAGE_URL).toBe(endpoint);
    expect(loadRuntimeConfig({ OPENLINEAGE_URL: 'http://10.1.2.3:5000/api/v1/lineage' }).OPENLINEAGE_URL).toBeDefined();
    const listed = loadRuntimeConfig({
      OPENLINEAGE_URL: 'https://marquez.example/api/v1/lineage',
      OPENLINEAGE_ALLOW_HOSTS: 'marquez.example',
    });
    expect(listed.OPENLINEAGE_ALLOW_HOSTS).toEqual(['marquez.example']);
    expect(loadRuntimeConfig({}).OPENLINEAGE_URL).toBeUndefined();
  });
});
