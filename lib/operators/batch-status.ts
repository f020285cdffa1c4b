import { keys, streamOfBatch } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { streamState } from '../streams/stream-control.ts';
import { vaultObjects } from '../vault/objects.ts';
import { findObject } from '../vault/vault-object.ts';
import { batchRevisions } from '../vault/revisions.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';

/** Where a batch is, read from the vault alone (what an operator asks first at 3 am). */
export interface BatchStatus {
  batch: string;
  stream: string;
  /**
   * The furthest step the batch has reached, or how its latest reconcile ended; `waiting-for-review`
   * once reconciled while clusters wait for a person's decision, `revising` while a decision taken is
   * not yet in a reconcile revision.
   */
  stage:
    | 'not-ingested'
    | 'ingested'
    | 'remediating'
    | 'reconciling'
    | 'waiting-for-review'
    | 'revising'
    | 'promoted'
    | 'gates-failed'
    | 'data-loss'
    | 'object-quarantined';
  /** The latest reconcile revision (0: the first reconcile; null before it). */
  revision: number | null;
  /** Cluster results in, of all the batch's clusters (null before clustering). */
  results: { done: number; of: number } | null;
  /** Clusters whose cells wait for a person (needs-review) or for the model (llm-unavailable), with the decision once taken. */
  waiting_for_review: {
    cluster: string;
    column: string;
    rule: string;
    disposition: string;
    cells: number;
    decision: { action: string; operator: string; at: string; applied: boolean } | null;
  }[];
  /** Rows per lane once reconciled. */
  rows: { source: number; clean: number; fixed: number; quarantined: number } | null;
  /** The stream's state: a halted stream holds its later files. */
  stream_state: { state: 'running' | 'halted'; reason: string | null };
}

/**
 * The status of a batch: ingested, clustering or remediating (n of m results), reconciling, or how
 * its reconcile ended, with the clusters waiting for review and the stream's state.
 *
 * @example
 * const status = await batchStatus(store, 'orders-0123456789abcdef0123');
 */
export async function batchStatus(store: ObjectStore, batch: string): Promise<BatchStatus> {
  const stream = streamOfBatch(batch);
  const state = await streamState(store, stream);
  const base = {
    batch,
    stream,
    stream_state: { state: state.state, reason: state.reason },
    results: null,
    waiting_for_review: [],
    rows: null,
    revision: null,
  };
  const ingest = await findObject(store, vaultObjects.ingestManifest.at(batch));
  if (!ingest) return { ...base, stage: 'not-ingested' };
  const clusters = await findObject(store, vaultObjects.clusterManifest.at(batch));
  if (!clusters) return { ...base, stage: 'ingested' };
  const results = (
    await Promise.all(clusters.clusters.map((c) => findObject(store, vaultObjects.clusterResult.at(batch, c.cluster))))
  ).filter((r) => r !== undefined);
  const revisions = await batchRevisions(store, batch);
  const waiting = await waitingClusters(store, batch, results, revisions?.latest.reviewed ?? []);
  const progress = { results: { done: results.length, of: clusters.clusters.length }, waiting_for_review: waiting };
  if (revisions) {
    const { latest, revision } = revisions;
    const open = latest.status === 'promoted' || latest.status === 'gates-failed';
    const stage = !open
      ? latest.status
      : waiting.some((w) => w.decision && !w.decision.applied && w.decision.action !== 'reject')
        ? 'revising'
        : waiting.some((w) => !w.decision)
          ? 'waiting-for-review'
          : latest.status;
    return { ...base, ...progress, stage, rows: latest.rows, revision };
  }
  const allIn =
    results.length === clusters.clusters.length || (clusters.clusters.length === 0 && (await store.exists(keys.noClusters(batch))));
  return { ...base, ...progress, stage: allIn ? 'reconciling' : 'remediating' };
}

/** The clusters that went to review, each with its decision (applied: a reconcile revision covers it). */
async function waitingClusters(
  store: ObjectStore,
  batch: string,
  results: ClusterResult[],
  covered: string[],
): Promise<BatchStatus['waiting_for_review']> {
  const waiting = results.filter((r) => r.disposition === 'needs-review' || r.disposition === 'llm-unavailable');
  return Promise.all(
    waiting.map(async (r) => {
      const decision = await findObject(store, vaultObjects.review.at(batch, r.cluster));
      return {
        cluster: r.cluster,
        column: r.column,
        rule: r.rule,
        disposition: r.disposition,
        cells: r.counts.cells,
        decision: decision
          ? { action: decision.action, operator: decision.operator, at: decision.at, applied: covered.includes(r.cluster) }
          : null,
      };
    }),
  );
}
