import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { keys } from '../../lib/keys.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { BatchUnknownError, planReplay, replayBatch } from '../../lib/replay/replay-batch.ts';
import { jsonText } from '../../lib/store/json-objects.ts';
import { ENGINE, ingestAndCluster, type LocalBatch } from '../support/local-batch.ts';

/** Where a half-done batch stopped, from the vault alone, and what re-drives it. */
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
const NOW = new Date('2026-12-01T12:00:00Z');

let sandbox: Sandbox;
let b: LocalBatch;
beforeAll(async () => {
  sandbox = new Sandbox();
  b = await ingestAndCluster(CONTRACT, 'shop', CSV, 'replay.csv');
});
afterAll(() => {
  sandbox.dispose();
  b.cleanup();
});

describe('planReplay and replayBatch', () => {
  it('a batch unknown to the vault names what to replay instead', async () => {
    await expect(planReplay(b.store, 'shop-00000000000000000000')).rejects.toBeInstanceOf(BatchUnknownError);
  });

  it('stopped after clustering: re-drives every cluster without a result; a live claim is reported, and released only when asked', async () => {
    expect(b.clusters.length).toBe(2);
    const [first, second] = b.clusters.map((c) => c.cluster) as [string, string];
    const dead = {
      schema_version: 1,
      scope: `${b.batch}/remediate/${first}`,
      generation: 0,
      holder: 'killed',
      claimed_at: NOW.toISOString(),
      lease_until: '2026-12-01T12:06:00.000Z',
    };
    await b.store.putIfAbsent(keys.claim(dead.scope, 0), jsonText(dead));
    const plan = await planReplay(b.store, b.batch, NOW);
    expect(plan.step).toBe('remediate');
    expect([...plan.replay].sort()).toEqual([keys.cluster(b.batch, first), keys.cluster(b.batch, second)].sort());
    expect(plan.held.map((c) => c.holder)).toEqual(['killed']);
    expect((await replayBatch(b.store, b.batch, { now: NOW })).replayed).toEqual([]);
    const released = await replayBatch(b.store, b.batch, { now: NOW, release: true });
    expect(released.replayed.length).toBe(2);
    expect(await b.store.exists(keys.claimRelease(dead.scope, 0))).toBe(true);
    expect((await planReplay(b.store, b.batch, NOW)).held).toEqual([]);
  });

  it('one result missing -> that cluster; all in -> reconcile; reconciled -> done', async () => {
    const deps = { store: b.store, workDir: b.workDir, engine: ENGINE, sandbox, threshold: 0.75, model: undefined };
    const [first, second] = b.clusters.map((c) => c.cluster) as [string, string];
    await remediateCluster(deps, keys.cluster(b.batch, second));
    expect(await planReplay(b.store, b.batch)).toMatchObject({ step: 'remediate', replay: [keys.cluster(b.batch, first)] });
    await remediateCluster(deps, keys.cluster(b.batch, first));
    expect(await planReplay(b.store, b.batch)).toMatchObject({
      step: 'reconcile',
      replay: [keys.clusterResult(b.batch, b.clusters[0]!.cluster)],
    });
    const reconcileDeps = {
      store: b.store,
      alerts: new LogAlertSink(() => {}),
      keys: new VaultKeyStore(b.store),
      workDir: b.workDir,
      engine: ENGINE,
      auditRetentionDays: 1,
    };
    expect((await reconcileOnce(reconcileDeps, b.batch)).status).toBe('reconciled');
    expect(await planReplay(b.store, b.batch)).toMatchObject({ step: 'done', replay: [] });
  });

  it('ingested but never clustered -> the ingest manifest', async () => {
    const other = await ingestAndCluster(CONTRACT, 'shop', CSV.replace('ABC-0001', 'ABC-0009'), 'unclustered.csv');
    try {
      await other.store.remove(keys.clusterManifest(other.batch));
      expect(await planReplay(other.store, other.batch)).toMatchObject({ step: 'cluster', replay: [keys.ingestManifest(other.batch)] });
    } finally {
      other.cleanup();
    }
  });
});
