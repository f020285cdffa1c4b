import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ingestObject } from '../../lib/ingest/ingest-object.ts';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterOnce } from '../../lib/cluster/cluster-once.ts';
import { faissIndexFactory } from '../../lib/cluster/faiss-index.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { routeFor } from '../../lib/flow/routes.ts';
import { keys } from '../../lib/keys.ts';
import { batchStatus } from '../../lib/operators/batch-status.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { reviseBatch } from '../../lib/reconcile/revise-batch.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { remediateReviewed } from '../../lib/remediate/remediate-reviewed.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { sweep } from '../../lib/replay/sweep.ts';
import { decideAsOperator } from '../../lib/review/operator-decision.ts';
import { parseResultKey, parseReviewedKey } from '../../lib/keys.ts';
import { jsonText } from '../../lib/store/json-objects.ts';
import { ENGINE, ingestAndCluster, localDeps, type LocalBatch, deskContract } from '../support/local-batch.ts';

/**
 * The sweep finds batches stopped at any step and re-drives them through the objects whose
 * notification starts that step; here a small dispatcher stands in for the store's
 * notifications, routing each replayed key to its step as the event bridge would.
 */
const CONTRACT = deskContract('swept');
let sandbox: Sandbox;
let b: LocalBatch;
const remediateDeps = () => localDeps(b, sandbox).remediate;
const reconcileDeps = () => localDeps(b, sandbox).reconcile;

/** Delivers a replayed key to its step, as the store's notification and the bridge would. */
async function deliver(key: string): Promise<void> {
  const route = routeFor(key);
  if (route?.fn === 'cluster')
    await clusterOnce(
      {
        store: b.store,
        workDir: b.workDir,
        engine: ENGINE,
        embedder: new HashingEmbedder(),
        makeIndex: faissIndexFactory,
        mergeSimilarity: 0.85,
      },
      key,
    );
  else if (route?.fn === 'remediate' && key.startsWith('reviews/')) await remediateReviewed(remediateDeps(), key);
  else if (route?.fn === 'remediate') await remediateCluster(remediateDeps(), key);
  else if (route?.fn === 'reconcile' && key.startsWith('reviewed/')) await reviseBatch(reconcileDeps(), parseReviewedKey(key).batch);
  else if (route?.fn === 'reconcile') await reconcileOnce(reconcileDeps(), parseResultKey(key).batch);
  else throw new Error(`no step for ${key}`);
}

async function sweepAndDeliver(): Promise<Awaited<ReturnType<typeof sweep>>> {
  const found = await sweep(b.store, { afterSeconds: 0 });
  for (const entry of found)
    if (entry.action === 'replayed' && entry.step !== 'ingest') for (const key of entry.objects) await deliver(key);
  return found;
}

beforeAll(async () => {
  sandbox = new Sandbox();
  b = await ingestAndCluster(
    CONTRACT,
    'swept',
    'id,amount,seen_on\n1,1.00,2026-01-01\n2,12.50 USD,2026-01-02\n3,2.00,11/04/2026\n',
    'swept.csv',
  );
}, 60_000);
afterAll(() => {
  sandbox.dispose();
  b.cleanup();
});

describe('the sweep', () => {
  it('lists a batch stopped after its cluster step without replaying it on a dry run, and leaves held work to its holder', async () => {
    const dry = await sweep(b.store, { afterSeconds: 0, dryRun: true });
    expect(dry).toEqual([expect.objectContaining({ target: b.batch, step: 'remediate', action: 'stalled' })]);
    expect(await sweep(b.store, { afterSeconds: 3600 })).toEqual([]);
    const scope = `${b.batch}/remediate/${b.clusters[0]!.cluster}`;
    const lease = new Date(Date.now() + 60_000).toISOString();
    await b.store.putIfAbsent(
      keys.claim(scope, 0),
      jsonText({ schema_version: 1, scope, generation: 0, holder: 'dead', claimed_at: new Date().toISOString(), lease_until: lease }),
    );
    expect(await sweep(b.store, { afterSeconds: 0 })).toEqual([
      expect.objectContaining({ step: 'remediate', action: 'held', held: [expect.objectContaining({ holder: 'dead' })] }),
    ]);
    await b.store.removeAllVersions(keys.claim(scope, 0));
  });

  it('re-drives the batch step by step until it is reconciled, then through a decision and its revision', async () => {
    const first = await sweepAndDeliver();
    expect(first).toEqual([expect.objectContaining({ step: 'remediate', action: 'replayed' })]);
    expect((await batchStatus(b.store, b.batch)).stage).toBe('reconciling');
    expect(await sweepAndDeliver()).toEqual([expect.objectContaining({ step: 'reconcile', action: 'replayed' })]);
    expect((await batchStatus(b.store, b.batch)).stage).toBe('waiting-for-review');
    expect(await sweep(b.store, { afterSeconds: 0 })).toEqual([]);

    const date = b.clusters.find((c) => c.column === 'seen_on')!.cluster;
    await decideAsOperator(
      { store: b.store, workDir: b.workDir, engine: ENGINE, sandbox },
      { action: 'choose', batch: b.batch, cluster: date, operator: 'sweeper', candidate: 'date:d-m-y' },
    );
    // The decision's notification was lost: the sweep applies it, then revises the batch.
    expect(await sweepAndDeliver()).toEqual([
      expect.objectContaining({ step: 'review', action: 'replayed', objects: [keys.review(b.batch, date)] }),
    ]);
    expect((await batchStatus(b.store, b.batch)).stage).toBe('revising');
    expect(await sweepAndDeliver()).toEqual([expect.objectContaining({ step: 'revise', action: 'replayed' })]);
    expect(await batchStatus(b.store, b.batch)).toMatchObject({ stage: 'promoted', revision: 1 });
    expect(await sweep(b.store, { afterSeconds: 0 })).toEqual([]);
  }, 60_000);

  it('counts a raw object whose content is a batch already as accounted for (the same file under another key)', async () => {
    mkdirSync(join(b.root, 'raw', 'swept'), { recursive: true });
    writeFileSync(join(b.root, 'raw', 'swept', 'copy.csv'), readFileSync(join(b.root, 'raw', 'swept', 'swept.csv')));
    const outcome = await ingestObject(
      { store: b.store, alerts: new LogAlertSink(() => {}), workDir: b.workDir, engine: ENGINE },
      { bucket: 'local', key: 'raw/swept/copy.csv' },
    );
    expect(outcome.status).toBe('already-ingested');
    expect((await sweep(b.store, { afterSeconds: 0 })).filter((e) => e.target === 'raw/swept/copy.csv')).toEqual([]);
  });

  it('replays a raw object that nothing accounts for, a lease apart, three times at most', async () => {
    mkdirSync(join(b.root, 'raw', 'swept'), { recursive: true });
    writeFileSync(join(b.root, 'raw', 'swept', 'lost.csv'), 'id,amount,seen_on\n9,1.00,2026-01-09\n');
    const at = (s: number) => new Date(Date.now() + s * 1000);
    const lost = async (s: number) =>
      (await sweep(b.store, { afterSeconds: 0, leaseSeconds: 10, now: at(s) }))
        .filter((e) => e.target === 'raw/swept/lost.csv')
        .map((e) => e.action);
    expect(await lost(0)).toEqual(['replayed']);
    expect(await lost(5)).toEqual(['held']);
    expect(await lost(11)).toEqual(['replayed']);
    expect(await lost(22)).toEqual(['replayed']);
    expect(await lost(33)).toEqual(['replayed-before']);
  });
});
