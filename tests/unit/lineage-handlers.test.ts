import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import type { StoreS3Event } from '../../lib/events/s3-event.ts';
import { keys } from '../../lib/keys.ts';
import { LineageEmitter } from '../../lib/lineage/lineage-emitter.ts';
import { RunEventSchema, type RunEvent } from '../../lib/lineage/run-event.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { readObject } from '../../lib/vault/vault-object.ts';
import { DESK_CSV, deskContract } from '../support/local-batch.ts';
import { openLineageErrors } from '../support/openlineage-validator.ts';

/**
 * The four S3-triggered handlers, wired as deployed (middy, the step, traced lineage, metrics, the
 * flush of POSTs at the end of the invocation), run in process one after the other on a local
 * vault: the runtime module is replaced by one whose vault is a directory, whose metrics are
 * recorded, and whose lineage emitter posts to an endpoint on loopback.
 */
const BUCKET = 'vaultmend-handlers';
const posted: RunEvent[] = [];
const world = vi.hoisted(() => ({
  root: '',
  endpoint: '',
  points: [] as Array<{ name: string; unit: string; value: number; dimensions: Record<string, string> }>,
}));

vi.mock('../../functions/runtime.ts', async () => {
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const { LogAlertSink } = await import('../../lib/alerts/alerts.ts');
  const { loadRuntimeConfig } = await import('../../lib/config.ts');
  const { objectCreatedEvents } = await import('../../lib/events/s3-event.ts');
  const vault = new FileObjectStore(join(world.root, 'vault'));
  const config = loadRuntimeConfig({ VAULT_BUCKET: BUCKET, WORK_DIR: join(world.root, 'work'), LOG_LEVEL: 'ERROR' });
  const metrics = {
    singleMetric: () => {
      const dimensions: Record<string, string> = {};
      return {
        addDimensions: (d: Record<string, string>) => Object.assign(dimensions, d),
        addMetric: (name: string, unit: string, value: number) => world.points.push({ name, unit, value, dimensions: { ...dimensions } }),
      };
    },
  };
  return {
    config,
    logger: new Logger({ serviceName: 'vaultmend-test', logLevel: 'ERROR' }),
    metrics,
    vault,
    lineage: new LineageEmitter({
      store: vault,
      endpoint: world.endpoint,
      report: (p) => world.points.push({ name: p.kind, unit: 'Count', value: 1, dimensions: {} }),
    }),
    alerts: new LogAlertSink(() => {}),
    vaultObjects: (event: StoreS3Event) => objectCreatedEvents(event).filter((o) => o.bucket === BUCKET),
  };
});

const context = { functionName: 'test', awsRequestId: 'r', invokedFunctionArn: 'arn', memoryLimitInMB: '1024' } as unknown as Context;
const s3Event = (...objectKeys: string[]): StoreS3Event =>
  ({
    Records: objectKeys.map((key) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-12-01T10:00:00.000Z',
      eventName: 'ObjectCreated:Put',
      s3: { s3SchemaVersion: '1.0', bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }, object: { key, size: 1, eTag: 'e' } },
    })),
  }) as unknown as StoreS3Event;

let server: Server;
let store: FileObjectStore;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posted.push(RunEventSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  world.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/lineage`;
  world.root = mkdtempSync(join(tmpdir(), 'vaultmend-lineage-handlers-'));
  mkdirSync(join(world.root, 'vault', 'raw', 'desk'), { recursive: true });
  mkdirSync(join(world.root, 'work'), { recursive: true });
  writeFileSync(join(world.root, 'vault', 'raw', 'desk', 'desk.csv'), DESK_CSV);
  store = new FileObjectStore(join(world.root, 'vault'));
  await registerContract(store, deskContract('desk'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(world.root, { recursive: true, force: true });
});

describe('the handlers as deployed, on a local vault', () => {
  it('write a START and a COMPLETE per step and cluster, post each once before returning, and publish latency and lanes', async () => {
    const { handler: ingest } = await import('../../functions/ingest.ts');
    const { handler: cluster } = await import('../../functions/cluster.ts');
    const { handler: remediate } = await import('../../functions/remediate.ts');
    const { handler: reconcile } = await import('../../functions/reconcile.ts');

    const [ingested] = await ingest(s3Event('raw/desk/desk.csv'), context);
    if (ingested?.status !== 'ingested') throw new Error(`not ingested: ${ingested?.status}`);
    const { batch } = ingested;
    // The POSTs of an invocation are flushed before the handler returns.
    expect(posted.map((e) => `${e.job.name}.${e.eventType}`)).toEqual(['vaultmend.ingest.START', 'vaultmend.ingest.COMPLETE']);
    await cluster(s3Event(keys.ingestManifest(batch)), context);
    const { clusters } = await readObject(store, vaultObjects.clusterManifest.at(batch));
    await remediate(s3Event(...clusters.map((c) => keys.cluster(batch, c.cluster))), context);
    await reconcile(s3Event(...clusters.map((c) => keys.clusterResult(batch, c.cluster))), context);

    const names = (await store.list(`lineage/${batch}/`)).map((k) => k.slice(`lineage/${batch}/`.length)).sort();
    const runs = [
      'vaultmend.ingest',
      'vaultmend.cluster',
      ...clusters.map((c) => `vaultmend.remediate.${c.cluster}`),
      'vaultmend.reconcile',
    ];
    expect(names).toEqual(runs.flatMap((r) => [`${r}.COMPLETE.json`, `${r}.START.json`]).sort());
    for (const name of names) {
      const event = RunEventSchema.parse(JSON.parse(await store.readText(`lineage/${batch}/${name}`)));
      expect(openLineageErrors(event), name).toEqual([]);
      expect(event.inputs.concat(event.outputs).every((d) => d.namespace === `s3://${BUCKET}`)).toBe(true);
    }
    expect(posted).toHaveLength(names.length);
    for (const event of posted) expect(openLineageErrors(event)).toEqual([]);

    const latency = world.points.filter((p) => p.name === 'StepLatency');
    expect(latency.map((p) => p.dimensions['step'])).toEqual(['ingest', 'cluster', ...clusters.map(() => 'remediate'), 'reconcile']);
    expect(latency.every((p) => p.unit === 'Milliseconds' && p.dimensions['stream'] === 'desk' && p.value >= 0)).toBe(true);
    const rows = (step: string) =>
      Object.fromEntries(
        world.points.filter((p) => p.name === 'LaneRows' && p.dimensions['step'] === step).map((p) => [p.dimensions['lane'], p.value]),
      );
    expect(rows('ingest')).toEqual({ clean: 1, suspect: 2, quarantined: 0 });
    const manifest = await readObject(store, vaultObjects.reconcileManifest.at(batch));
    expect(rows('reconcile')).toEqual({ clean: manifest.rows.clean, fixed: manifest.rows.fixed, quarantined: manifest.rows.quarantined });
    expect(world.points.filter((p) => p.name === 'post-failed' || p.name === 'write-failed')).toEqual([]);

    // A second delivery of every object: nothing written, posted or counted again.
    const counted = world.points.length;
    await ingest(s3Event('raw/desk/desk.csv'), context);
    await cluster(s3Event(keys.ingestManifest(batch)), context);
    await remediate(s3Event(...clusters.map((c) => keys.cluster(batch, c.cluster))), context);
    await reconcile(s3Event(...clusters.map((c) => keys.clusterResult(batch, c.cluster))), context);
    expect(posted).toHaveLength(names.length);
    expect(world.points.filter((p) => p.name !== 'IngestObjects')).toHaveLength(
      world.points.slice(0, counted).filter((p) => p.name !== 'IngestObjects').length,
    );
  }, 60_000);
});
