import type { AlertSink } from '../alerts/alerts.ts';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { putJson } from '../store/json-objects.ts';
import { recordWaiting, setStreamState } from './stream-control.ts';

/**
 * The circuit breaker of a stream: a catastrophic failure — more of a file failing than its
 * contract allows, or an object whose ingest keeps failing (store errors, an engine crash) —
 * halts the stream, keeps the raw object in the vault as a waiting file, and raises a SEV1
 * alert. `vaultmend stream resume` (with `--accept` when the operator accepts a batch that
 * failed its share) replays the waiting files, which completes their batches.
 */
export type HaltReason = 'failing-share' | 'ingest-failed';

export interface Failure {
  stream: string;
  batch: string | null;
  key: string;
  versionId: string | null;
  reason: HaltReason;
  summary: string;
  details: Record<string, unknown>;
  at: Date;
}

export async function haltForFailures(store: ObjectStore, alerts: AlertSink, failure: Failure): Promise<void> {
  const since = failure.at.toISOString();
  await setStreamState(store, { stream: failure.stream, state: 'halted', reason: failure.reason, batch: failure.batch, since });
  await recordWaiting(store, failure.stream, { key: failure.key, version_id: failure.versionId, batch: failure.batch ?? 'unknown', since });
  await alerts.post({
    severity: 'SEV1',
    component: 'ingest',
    stream: failure.stream,
    reason: failure.reason,
    ...(failure.batch ? { batch: failure.batch } : {}),
    summary: `${failure.summary}; stream ${failure.stream} is halted until an operator resumes it (the raw object is kept)`,
    details: { key: failure.key, ...failure.details },
  });
}

/** An operator accepted this batch despite its failing share: ingest lets it through once resumed. */
export async function acceptBatch(store: ObjectStore, stream: string, batch: string, at: Date): Promise<void> {
  await putJson(store, keys.acceptedBatch(stream, batch), { stream, batch, accepted_at: at.toISOString() });
}

export async function isAccepted(store: ObjectStore, stream: string, batch: string): Promise<boolean> {
  return store.exists(keys.acceptedBatch(stream, batch));
}
