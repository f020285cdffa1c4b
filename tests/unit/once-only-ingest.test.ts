import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { clusterOnce } from '../../lib/cluster/cluster-once.ts';
import { faissIndexFactory } from '../../lib/cluster/faiss-index.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { ingestObject, type IngestDeps } from '../../lib/ingest/ingest-object.ts';
import { keys } from '../../lib/keys.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { ENGINE } from '../support/local-batch.ts';

/** Ingest and cluster once only: the same object delivered five times at once. */
const CONTRACT = {
  stream: 'shop',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
    { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' },
  ],
};
const CSV = 'id,amount,code\n1,1.00,ABC-0001\n2,12.50 USD,ABC-0002\n3,2.00,abc 7\n';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function vault(): Promise<{ store: FileObjectStore; root: string; deps: IngestDeps }> {
  const dir = mkdtempSync(join(tmpdir(), 'vm-once-ingest-'));
  dirs.push(dir);
  const root = join(dir, 'vault');
  mkdirSync(join(root, 'raw', 'shop'), { recursive: true });
  writeFileSync(join(root, 'raw', 'shop', 'a.csv'), CSV);
  const store = new FileObjectStore(root);
  await registerContract(store, CONTRACT);
  return { store, root, deps: { store, alerts: new LogAlertSink(() => {}), workDir: join(dir, 'work'), engine: ENGINE } };
}

describe('ingest and cluster delivered five times at once', () => {
  it('ingest: one holder writes the batch, the others exit', async () => {
    const { deps, root } = await vault();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => ingestObject(deps, { bucket: 'local', key: 'raw/shop/a.csv' })));
    const statuses = outcomes.map((o) => o.status);
    expect(statuses.filter((s) => s === 'ingested')).toHaveLength(1);
    expect(statuses.every((s) => ['ingested', 'claimed-elsewhere', 'already-ingested'].includes(s))).toBe(true);
    const ingested = outcomes.find((o) => o.status === 'ingested');
    if (ingested?.status !== 'ingested') throw new Error('nothing ingested');
    const batch = ingested.batch;
    expect(readdirSync(join(root, 'claims', batch, 'ingest'))).toEqual(['0000.json']);
  });

  it('cluster: one holder writes the cluster manifest and each cluster object once', async () => {
    const { deps, store, root } = await vault();
    const ingested = await ingestObject(deps, { bucket: 'local', key: 'raw/shop/a.csv' });
    if (ingested.status !== 'ingested') throw new Error(ingested.status);
    const clusterDeps = {
      store,
      workDir: deps.workDir,
      engine: ENGINE,
      embedder: new HashingEmbedder(),
      makeIndex: faissIndexFactory,
      mergeSimilarity: 0.85,
    };
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => clusterOnce(clusterDeps, ingested.manifestKey)));
    expect(outcomes.filter((o) => o.status === 'clustered')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'claimed-elsewhere')).toHaveLength(4);
    expect(await store.exists(keys.clusterManifest(ingested.batch))).toBe(true);
    expect(readdirSync(join(root, 'claims', ingested.batch, 'cluster'))).toEqual(['0000.json']);
  });

  it('a file held while its stream is halted gives its claim back, so the replay after resume is ingested', async () => {
    const { deps, store } = await vault();
    await store.put(
      keys.streamState('shop'),
      JSON.stringify({ stream: 'shop', state: 'halted', reason: 'test', batch: null, since: '2026-12-01T00:00:00.000Z' }),
    );
    const held = await ingestObject(deps, { bucket: 'local', key: 'raw/shop/a.csv' });
    expect(held.status).toBe('waiting');
    await store.remove(keys.streamState('shop'));
    expect((await ingestObject(deps, { bucket: 'local', key: 'raw/shop/a.csv' })).status).toBe('ingested');
  });
});
