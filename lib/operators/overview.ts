import type { ObjectStore } from '../store/object-store.ts';
import { streamState } from '../streams/stream-control.ts';
import { keys } from '../keys.ts';
import { batchStatus, type BatchStatus } from './batch-status.ts';

/** One stream as the operators' overview shows it: running or halted (and why), files waiting, its batches. */
export interface StreamOverview {
  stream: string;
  state: 'running' | 'halted';
  reason: string | null;
  waiting_files: number;
  batches: BatchStatus[];
}

const BATCH_MANIFEST = /^manifests\/([a-z0-9][a-z0-9_-]{0,62}-[0-9a-f]{20})\/ingest\.json$/;

/** The batch ids the vault holds (those with an ingest manifest), optionally of one stream, in key order. */
export async function listBatches(store: ObjectStore, stream?: string): Promise<string[]> {
  const found = (await store.list(stream ? `manifests/${stream}-` : 'manifests/'))
    .map((key) => BATCH_MANIFEST.exec(key)?.[1])
    .filter((batch): batch is string => batch !== undefined);
  return stream ? found.filter((batch) => batch.slice(0, -21) === stream) : found;
}

/**
 * Every stream with a contract, its state and its batches' statuses (the review page's front
 * page and `vaultmend status` without a batch). `limit` caps the batches read per stream (the last ones in key order).
 *
 * @example
 * for (const s of await overview(store)) console.log(s.stream, s.state, s.batches.length);
 */
export async function overview(store: ObjectStore, limit = 200): Promise<StreamOverview[]> {
  const streams = (await store.list('contracts/')).map((key) => /^contracts\/([^/]+)\.json$/.exec(key)?.[1]).filter((s) => s !== undefined);
  return Promise.all(
    streams.map(async (stream) => {
      const state = await streamState(store, stream);
      const waiting = (await store.list(keys.waitingPrefix(stream))).length;
      const batches = (await listBatches(store, stream)).slice(-limit);
      return {
        stream,
        state: state.state,
        reason: state.reason,
        waiting_files: waiting,
        batches: await Promise.all(batches.map((b) => batchStatus(store, b))),
      };
    }),
  );
}
