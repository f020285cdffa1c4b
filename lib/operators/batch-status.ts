import { keys, streamOfBatch } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { streamState } from '../streams/stream-control.ts';
import { vaultObjects } from '../vault/objects.ts';
import { findObject } from '../vault/vault-object.ts';

/** Where a batch is, read from the vault alone (what an operator asks first at 3 am). */
export interface BatchStatus {
  batch: string;
  stream: string;
  /** The furthest step the batch has reached, or how its reconcile ended. */
  stage: 'not-ingested' | 'ingested' | 'remediating' | 'reconciling' | 'promoted' | 'gates-failed' | 'data-loss' | 'object-quarantined';
  /** Cluster results in, of all the batch's clusters (null before clustering). */
  results: { done: number; of: number } | null;
  /** Clusters whose cells wait for a person (needs-review) or for the model (llm-unavailable). */
  waiting_for_review: { cluster: string; column: string; rule: string; disposition: string; cells: number }[];
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
  };
  const ingest = await findObject(store, vaultObjects.ingestManifest.at(batch));
  if (!ingest) return { ...base, stage: 'not-ingested' };
  const clusters = await findObject(store, vaultObjects.clusterManifest.at(batch));
  if (!clusters) return { ...base, stage: 'ingested' };
  const results = (
    await Promise.all(clusters.clusters.map((c) => findObject(store, vaultObjects.clusterResult.at(batch, c.cluster))))
  ).filter((r) => r !== undefined);
  const waiting = results
    .filter((r) => r.disposition === 'needs-review' || r.disposition === 'llm-unavailable')
    .map((r) => ({ cluster: r.cluster, column: r.column, rule: r.rule, disposition: r.disposition, cells: r.counts.cells }));
  const progress = { results: { done: results.length, of: clusters.clusters.length }, waiting_for_review: waiting };
  const reconciled = await findObject(store, vaultObjects.reconcileManifest.at(batch));
  if (reconciled) return { ...base, ...progress, stage: reconciled.status, rows: reconciled.rows };
  const allIn =
    results.length === clusters.clusters.length || (clusters.clusters.length === 0 && (await store.exists(keys.noClusters(batch))));
  return { ...base, ...progress, stage: allIn ? 'reconciling' : 'remediating' };
}
