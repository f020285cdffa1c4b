import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { verifyChain } from '../../lib/audit/audit-chain.ts';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { keys } from '../../lib/keys.ts';
import { batchStatus } from '../../lib/operators/batch-status.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { reviseBatch } from '../../lib/reconcile/revise-batch.ts';
import { rollbackBatch } from '../../lib/reconcile/rollback.ts';
import { listRegistered } from '../../lib/remediate/function-registry.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { remediateReviewed } from '../../lib/remediate/remediate-reviewed.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { clusterEvidence } from '../../lib/review/cluster-evidence.ts';
import { decideAsOperator } from '../../lib/review/operator-decision.ts';
import { downloadObject } from '../../lib/store/download.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { findObject, readObject } from '../../lib/vault/vault-object.ts';
import { ENGINE, ingestAndCluster, localDeps, type LocalBatch, deskContract, DESK_CSV } from '../support/local-batch.ts';

/**
 * The review loop on a local vault, through the real steps: a date that reads two ways waits for
 * review; an operator chooses the reading; the cluster is re-remediated and the batch revised (the
 * row moves from quarantine to a curated part of its own, a second audit object chained to the
 * first, its line at tier operator); and the next batch with the pattern is fixed at the registry tier.
 */
const CONTRACT = deskContract();
const CSV = DESK_CSV;

let sandbox: Sandbox;
let b: LocalBatch;
const remediateDeps = () => localDeps(b, sandbox).remediate;
const reconcileDeps = () => localDeps(b, sandbox).reconcile;
const reviewDeps = () => localDeps(b, sandbox).review;
let dateCluster: string;

beforeAll(async () => {
  sandbox = new Sandbox();
  b = await ingestAndCluster(CONTRACT, 'desk', CSV, 'desk.csv');
  for (const spec of b.clusters) await remediateCluster(remediateDeps(), keys.cluster(b.batch, spec.cluster));
  dateCluster = b.clusters.find((c) => c.column === 'seen_on')!.cluster;
}, 60_000);
afterAll(() => {
  sandbox.dispose();
  b.cleanup();
});

async function curatedRows(key: string): Promise<{ id: string; seen_on: string }[]> {
  const engine = await Engine.open({ ...ENGINE, spillDir: `${b.workDir}/spill-test` });
  try {
    const local = await downloadObject(b.store, key, undefined, `${b.workDir}/check-${Math.random()}.parquet`);
    return await engine.rows(
      `SELECT CAST(id AS VARCHAR) AS id, CAST(seen_on AS VARCHAR) AS seen_on FROM read_parquet('${local.path}') ORDER BY id`,
    );
  } finally {
    engine.close();
  }
}

describe('the review loop', () => {
  it('refuses a decision before the batch is reconciled, then shows the rival readings measured', async () => {
    const early = await decideAsOperator(reviewDeps(), {
      action: 'choose',
      batch: b.batch,
      cluster: dateCluster,
      operator: 'alice',
      candidate: 'date:d-m-y',
    });
    expect(early).toMatchObject({ status: 'refused', reason: expect.stringContaining('not reconciled yet') });
    await reconcileOnce(reconcileDeps(), b.batch);
    expect(await batchStatus(b.store, b.batch)).toMatchObject({ stage: 'waiting-for-review', revision: 0 });
    const evidence = await clusterEvidence(reviewDeps(), b.batch, dateCluster);
    expect(evidence.reviewable).toEqual({ ok: true });
    expect(evidence.ambiguous_with).toBeDefined();
    const rivals = evidence.ambiguous_with!.split(' / ');
    for (const name of rivals) {
      const p = evidence.proposals.find((x) => x.name === name);
      expect(p, name).toMatchObject({ gate: { accepted: true }, passed: 1, pass_rate: 1 });
    }
    const dm = evidence.proposals.find((p) => p.name === 'date:d-m-y')!;
    expect(dm.examples[0]).toMatchObject({ before: '11/04/2026', after: ['2026-04-11'], verdict: 'ok' });
  });

  it('shows an edited function the gate refuses as refused, and writes nothing', async () => {
    const refused = await decideAsOperator(reviewDeps(), {
      action: 'edit',
      batch: b.batch,
      cluster: dateCluster,
      operator: 'alice',
      source: 'x => globalThis.process.exit(1)',
      confirm: true,
    });
    expect(refused).toMatchObject({ status: 'refused', reason: expect.stringContaining('gate refused') });
    const invents = await decideAsOperator(reviewDeps(), {
      action: 'edit',
      batch: b.batch,
      cluster: dateCluster,
      operator: 'alice',
      source: "x => 'not a date'",
      confirm: false,
    });
    expect(invents.status).toBe('refused');
    const notRival = await decideAsOperator(reviewDeps(), {
      action: 'choose',
      batch: b.batch,
      cluster: dateCluster,
      operator: 'alice',
      candidate: 'trim',
    });
    expect(notRival).toMatchObject({ status: 'refused', reason: expect.stringContaining('not one of the rival readings') });
    expect(await b.store.exists(keys.review(b.batch, dateCluster))).toBe(false);
  });

  it('chooses day-month: re-remediates, revises the batch, chains a second audit object, and registers the function', async () => {
    const chosen = await decideAsOperator(reviewDeps(), {
      action: 'choose',
      batch: b.batch,
      cluster: dateCluster,
      operator: 'alice',
      candidate: 'date:d-m-y',
    });
    expect(chosen).toMatchObject({
      status: 'decided',
      decision: { action: 'choose', operator: 'alice', function: { name: 'date:d-m-y' } },
    });
    const second = await decideAsOperator(reviewDeps(), {
      action: 'reject',
      batch: b.batch,
      cluster: dateCluster,
      operator: 'bob',
      reason: 'no',
    });
    expect(second).toMatchObject({ status: 'already-decided', decision: { operator: 'alice' } });
    expect(await batchStatus(b.store, b.batch)).toMatchObject({ stage: 'revising' });

    const reviewed = await remediateReviewed(remediateDeps(), keys.review(b.batch, dateCluster));
    expect(reviewed).toMatchObject({ status: 'reviewed', result: { tier: 'operator', disposition: 'fixed', counts: { staged_cells: 1 } } });
    expect((await remediateReviewed(remediateDeps(), keys.review(b.batch, dateCluster))).status).toBe('already-reviewed');
    const revised = await reviseBatch(reconcileDeps(), b.batch);
    expect(revised).toMatchObject({
      status: 'revised',
      revision: 1,
      manifest: { status: 'promoted', rows: { source: 3, clean: 1, fixed: 2, quarantined: 0 } },
    });
    expect((await reviseBatch(reconcileDeps(), b.batch)).status).toBe('up-to-date');
    expect(await batchStatus(b.store, b.batch)).toMatchObject({ stage: 'promoted', revision: 1 });

    // Each row in exactly one curated part; the reviewed row only in the revision's part.
    const first = await readObject(b.store, vaultObjects.reconcileManifest.at(b.batch));
    const rev = (await findObject(b.store, vaultObjects.revisionManifest.at(b.batch, 1)))!;
    expect(rev.curated_parts).toEqual([first.curated, keys.curatedPart('desk', b.batch, 1)]);
    expect((await curatedRows(first.curated!)).map((r) => r.id)).toEqual(['1', '2']);
    expect(await curatedRows(rev.curated!)).toEqual([{ id: '3', seen_on: '2026-04-11' }]);

    // The first audit object is untouched; the second is chained to its root; verify walks both.
    const verdict = await verifyBatchAudit(b.store, b.batch);
    expect(verdict.ok).toBe(true);
    expect(verdict.objects.map((o) => [o.key, o.ok])).toEqual([
      [first.audit!.key, true],
      [keys.auditRevision('desk', b.batch, 1), true],
    ]);
    const lines = (await b.store.readText(keys.auditRevision('desk', b.batch, 1)))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      prev: first.audit!.root_hash,
      row_id: expect.any(Number),
      column: 'seen_on',
      tier: 'operator',
      operator: 'alice',
      new: '2026-04-11',
    });
    expect(lines.every((l) => l.kind === 'cell-changed' || l.kind === 'row-quarantined')).toBe(true);

    const registered = await listRegistered(b.store, 'desk');
    expect(registered.map((e) => [e.entry.column, e.entry.approved_by, e.entry.function.name])).toContainEqual([
      'seen_on',
      'operator',
      'date:d-m-y',
    ]);
  }, 60_000);

  it('the revision audit object is locked, and an edited copy breaks its chain', async () => {
    const key = keys.auditRevision('desk', b.batch, 1);
    const text = await b.store.readText(key);
    const verdict = await verifyBatchAudit(b.store, b.batch);
    expect(verdict.ok).toBe(true);
    const edited = text.replace('2026-04-11', '2026-11-04');
    expect(edited).not.toBe(text);
    // The store refuses to overwrite the locked object; a copy with an edit is caught by the chain.
    await expect(b.store.put(key, edited)).rejects.toThrow();
    const first = await readObject(b.store, vaultObjects.reconcileManifest.at(b.batch));
    const rev = (await findObject(b.store, vaultObjects.revisionManifest.at(b.batch, 1)))!;
    expect(verifyChain('desk', b.batch, text, rev.audit!.root_hash, first.audit!.root_hash).ok).toBe(true);
    expect(verifyChain('desk', b.batch, edited, rev.audit!.root_hash, first.audit!.root_hash).ok).toBe(false);
    // Chained to anything but the first object's root, the revision's lines do not verify.
    expect(verifyChain('desk', b.batch, text, rev.audit!.root_hash).ok).toBe(false);
  });
});

describe('after a revision', () => {
  it('rollback takes every curated part and every audit object of the chain', async () => {
    const outcome = await rollbackBatch({ store: b.store, keys: new VaultKeyStore(b.store), workDir: b.workDir, engine: ENGINE }, b.batch);
    expect(outcome).toMatchObject({ rows: 3, reverted_cells: 2, erased_cells: 0 });
    const rows = await curatedRows(outcome.key);
    expect(rows).toEqual([
      { id: '1', seen_on: '2026-01-01' },
      { id: '2', seen_on: '2026-01-02' },
      { id: '3', seen_on: '11/04/2026' },
    ]);
  });
});

describe('the registry learns', () => {
  it('fixes the next batch with the pattern at the registry tier, with no model call', async () => {
    const next = await ingestAndCluster(CONTRACT, 'desk', 'id,amount,seen_on\n7,3.00,12/05/2026\n', 'desk2.csv');
    try {
      // The same vault: copy the registry over by registering from the first batch's store.
      for (const { signature, entry } of await listRegistered(b.store, 'desk')) {
        await next.store.put(keys.registryEntry('desk', signature), JSON.stringify(entry));
      }
      const spec = next.clusters.find((c) => c.column === 'seen_on')!;
      const outcome = await remediateCluster(
        { ...remediateDeps(), store: next.store, workDir: next.workDir },
        keys.cluster(next.batch, spec.cluster),
      );
      expect(outcome).toMatchObject({ status: 'remediated', result: { tier: 'registry', disposition: 'fixed', model_calls: 0 } });
    } finally {
      next.cleanup();
    }
  }, 60_000);
});
