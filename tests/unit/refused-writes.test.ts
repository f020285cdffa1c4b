import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { clusterOnce } from '../../lib/cluster/cluster-once.ts';
import { faissIndexFactory } from '../../lib/cluster/faiss-index.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { StoreError } from '../../lib/errors.ts';
import { ingestObject } from '../../lib/ingest/ingest-object.ts';
import { keys } from '../../lib/keys.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import type { PutOptions, PutResult } from '../../lib/store/object-store.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { readObject } from '../../lib/vault/vault-object.ts';
import { ENGINE } from '../support/local-batch.ts';

/**
 * A write refused in the middle of writing Parquet (a full disk, a store that fails the upload):
 * the upload is cut after 100 bytes and refused, the step fails loudly and gives its claim back,
 * and its retry writes the object whole; no half object is ever visible at a key (the local store
 * writes whole or not at all, as S3 does), nothing is lost and the batch still proves out.
 */
class RefusingStore extends FileObjectStore {
  /** The next Parquet upload whose key matches is cut after 100 bytes and refused. */
  refuse: RegExp | undefined;
  refused: string[] = [];

  override async putFile(key: string, source: string, options?: PutOptions): Promise<PutResult> {
    if (!this.refuse?.test(key)) return super.putFile(key, source, options);
    this.refuse = undefined;
    this.refused.push(key);
    // What a full disk does to a whole-or-nothing write: the copy is cut short, and nothing lands at the key.
    const cut = `${source}.cut`;
    await copyFile(source, cut);
    await truncate(cut, 100);
    rmSync(cut, { force: true });
    throw new StoreError(`write of ${key} refused: no space left on device (injected)`);
  }
}

const CONTRACT = {
  stream: 'refused',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
    { name: 'seen_on', type: 'date' },
  ],
};
const CSV = 'id,amount,seen_on\n1,1.00,2026-01-01\n2,12.50 USD,2026-01-02\n3,N/A,2026-01-03\n4,2.00,2026-01-04\n';

let dir: string;
let store: RefusingStore;
let sandbox: Sandbox;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaultmend-refused-'));
  mkdirSync(join(dir, 'vault', 'raw', 'refused'), { recursive: true });
  writeFileSync(join(dir, 'vault', 'raw', 'refused', 'f.csv'), CSV);
  store = new RefusingStore(join(dir, 'vault'));
  await registerContract(store, CONTRACT);
  sandbox = new Sandbox();
});
afterAll(() => {
  sandbox.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('a write refused in the middle of writing Parquet', () => {
  it('fails the step, which its retry completes in every step; the batch proves out', async () => {
    const workDir = join(dir, 'work');
    const ingestDeps = { store, alerts: new LogAlertSink(() => {}), workDir, engine: ENGINE };
    const raw = { bucket: 'local', key: 'raw/refused/f.csv' };
    store.refuse = /^clean\//;
    await expect(ingestObject(ingestDeps, raw)).rejects.toThrow(/no space left/);
    const ingested = await ingestObject(ingestDeps, raw);
    expect(ingested.status).toBe('ingested');
    if (ingested.status !== 'ingested') return;
    const batch = ingested.batch;

    const clusterDeps = {
      store,
      workDir,
      engine: ENGINE,
      embedder: new HashingEmbedder(),
      makeIndex: faissIndexFactory,
      mergeSimilarity: 0.85,
    };
    store.refuse = /\.cells\.parquet$/;
    await expect(clusterOnce(clusterDeps, keys.ingestManifest(batch))).rejects.toThrow(/no space left/);
    expect((await clusterOnce(clusterDeps, keys.ingestManifest(batch))).status).toBe('clustered');

    const clusters = (await readObject(store, vaultObjects.clusterManifest.at(batch))).clusters;
    const remediateDeps = { store, workDir, engine: ENGINE, sandbox, threshold: 0.75, model: undefined };
    store.refuse = /^staged\//;
    await expect(remediateCluster(remediateDeps, keys.cluster(batch, clusters[0]!.cluster))).rejects.toThrow(/no space left/);
    for (const c of clusters) expect((await remediateCluster(remediateDeps, keys.cluster(batch, c.cluster))).status).toBe('remediated');

    const reconcileDeps = {
      store,
      alerts: new LogAlertSink(() => {}),
      keys: new VaultKeyStore(store),
      workDir,
      engine: ENGINE,
      auditRetentionDays: 1,
    };
    store.refuse = /^curated\//;
    await expect(reconcileOnce(reconcileDeps, batch)).rejects.toThrow(/no space left/);
    const reconciled = await reconcileOnce(reconcileDeps, batch);
    expect(reconciled).toMatchObject({
      status: 'reconciled',
      manifest: { status: 'promoted', rows: { source: 4, clean: 2, fixed: 2, quarantined: 0 } },
    });
    expect(store.refused.map((k) => k.split('/')[0])).toEqual(['clean', 'work', 'staged', 'curated']);
    expect((await verifyBatchAudit(store, batch)).ok).toBe(true);
  }, 60_000);

  it("leaves no half object at the key when the local store's write fails midway", async () => {
    const plain = new FileObjectStore(join(dir, 'plain'));
    await expect(plain.putFile('staged/x/y.parquet', join(dir, 'no-such-file'))).rejects.toThrow();
    expect(await plain.exists('staged/x/y.parquet')).toBe(false);
    expect(await plain.list('staged/')).toEqual([]);
    await plain.put('staged/x/y.parquet', 'whole');
    expect(await plain.readText('staged/x/y.parquet')).toBe('whole');
  });
});
