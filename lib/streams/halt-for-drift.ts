import type { AlertSink } from '../alerts/alerts.ts';
import type { SchemaDrift } from '../contract/schema-fingerprint.ts';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { putJson } from '../store/json-objects.ts';
import { setStreamState } from './stream-control.ts';

export interface DriftFound {
  stream: string;
  batch: string;
  key: string;
  drift: SchemaDrift;
  expected: string;
  found: string;
  at: Date;
}

/** Schema drift: write the drift report, halt the stream, and raise a SEV1 alert. */
export async function haltForDrift(store: ObjectStore, alerts: AlertSink, info: DriftFound): Promise<void> {
  const report = {
    stream: info.stream,
    batch: info.batch,
    key: info.key,
    expected_fingerprint: info.expected,
    found_fingerprint: info.found,
    drift: info.drift,
    halted_at: info.at.toISOString(),
  };
  // Halted first: a file that arrives while the report is written must already find the stream halted.
  await setStreamState(store, { stream: info.stream, state: 'halted', reason: 'schema-drift', batch: info.batch, since: report.halted_at });
  await putJson(store, keys.driftReport(info.stream, info.batch), report);
  await alerts.post({
    severity: 'SEV1',
    component: 'ingest',
    stream: info.stream,
    batch: info.batch,
    reason: 'schema-drift',
    summary: `schema drift in stream ${info.stream}: the stream is halted until an operator resumes it`,
    details: { key: info.key, report: keys.driftReport(info.stream, info.batch), drift: info.drift },
  });
}
