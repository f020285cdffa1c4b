import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lib/keys.ts';
import { batchStatus } from '../../lib/operators/batch-status.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { listRegistered, removeRegistered } from '../../lib/remediate/function-registry.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { ingestAndCluster, localDeps, type LocalBatch, deskContract, DESK_CSV } from '../support/local-batch.ts';

/** An operator's view of a batch (vaultmend status) and of the registry (vaultmend registry), on a local vault. */
const CONTRACT = deskContract();
const CSV = DESK_CSV;

let sandbox: Sandbox;
let b: LocalBatch;
beforeAll(async () => {
  sandbox = new Sandbox();
  b = await ingestAndCluster(CONTRACT, 'desk', CSV, 'desk.csv');
});
afterAll(() => {
  sandbox.dispose();
  b.cleanup();
});

describe('batchStatus', () => {
  it('follows a batch from clustered to promoted, naming the cluster that waits for review', async () => {
    expect(await batchStatus(b.store, b.batch)).toMatchObject({
      stage: 'remediating',
      results: { done: 0, of: 2 },
      waiting_for_review: [],
      rows: null,
      stream_state: { state: 'running' },
    });
    const deps = localDeps(b, sandbox).remediate;
    for (const spec of b.clusters) await remediateCluster(deps, keys.cluster(b.batch, spec.cluster));
    const review = await batchStatus(b.store, b.batch);
    expect(review).toMatchObject({ stage: 'reconciling', results: { done: 2, of: 2 } });
    expect(review.waiting_for_review).toEqual([expect.objectContaining({ column: 'seen_on', disposition: 'needs-review', cells: 1 })]);
    const reconcileDeps = localDeps(b, sandbox).reconcile;
    await reconcileOnce(reconcileDeps, b.batch);
    // Promoted, but one cluster still waits for a person's decision.
    expect(await batchStatus(b.store, b.batch)).toMatchObject({
      stage: 'waiting-for-review',
      revision: 0,
      rows: { source: 3, clean: 1, fixed: 1, quarantined: 1 },
    });
    expect(await batchStatus(b.store, 'desk-00000000000000000000')).toMatchObject({ stage: 'not-ingested' });
  });

  it('registry: lists the measured function, removes it (every version), and says when there is none', async () => {
    const entries = await listRegistered(b.store, 'desk');
    expect(entries.map((e) => [e.entry.column, e.entry.approved_by])).toEqual([['amount', 'measured']]);
    const { signature } = entries[0]!;
    expect(await removeRegistered(b.store, 'desk', signature)).toBe(true);
    expect(await listRegistered(b.store, 'desk')).toEqual([]);
    expect(await removeRegistered(b.store, 'desk', signature)).toBe(false);
  });
});
