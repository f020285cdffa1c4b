import type { AlertSink } from '../alerts/alerts.ts';
import type { CompatibilityVerdict } from '../contract/compatibility.ts';
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
  /** The stream's policy on the file's columns: the rule that fired and every change. */
  verdict: CompatibilityVerdict;
  /** The next contract the file's columns propose, when they make a valid one (an operator may adopt it). */
  proposal?: { id: string; key: string };
  /** Why the file's columns make no valid contract (then there is no proposal). */
  invalid?: string;
}

/** What an operator can do about a halt for drift, each with its command. */
export interface DriftAction {
  action: 'adopt' | 'resume' | 'reject';
  command: string;
  effect: string;
}

/** The operator's ways out of a halt for drift (adopt and reject only when there is an open proposal). */
export function driftActions(info: Pick<DriftFound, 'stream' | 'proposal'>): DriftAction[] {
  const { stream, proposal } = info;
  return [
    ...(proposal
      ? [
          {
            action: 'adopt' as const,
            command: `vaultmend contracts adopt ${stream} ${proposal.id}`,
            effect:
              "registers the file's schema as the stream's next contract version and resumes the stream: this file and every waiting one are ingested under it",
          },
        ]
      : []),
    {
      action: 'resume' as const,
      command: `vaultmend stream resume ${stream}`,
      effect:
        'replays the waiting files against the registered contract: first register one that matches (vaultmend contracts register FILE), or have the source re-send files of the registered schema',
    },
    ...(proposal
      ? [
          {
            action: 'reject' as const,
            command: `vaultmend contracts reject ${stream} ${proposal.id} --reason TEXT`,
            effect:
              'refuses the schema and resumes the stream: this file and every later one of this schema are quarantined whole (kept in the raw vault, reason schema-rejected); the other waiting files are replayed',
          },
        ]
      : []),
  ];
}

/** Schema drift the stream's policy does not accept: write the drift report, halt the stream, and raise a SEV1 alert. */
export async function haltForDrift(store: ObjectStore, alerts: AlertSink, info: DriftFound): Promise<void> {
  const actions = driftActions(info);
  const report = {
    stream: info.stream,
    batch: info.batch,
    key: info.key,
    expected_fingerprint: info.expected,
    found_fingerprint: info.found,
    drift: info.drift,
    policy: info.verdict.policy,
    rule: info.verdict.rule,
    changes: info.verdict.changes,
    ...(info.verdict.renamed ? { renamed: info.verdict.renamed } : {}),
    ...(info.proposal ? { proposal: info.proposal } : {}),
    ...(info.invalid ? { invalid: info.invalid } : {}),
    actions,
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
    summary: `schema drift in stream ${info.stream} (${report.rule}): the stream is halted; ${actions.map((a) => a.action).join(', ')}: see ${keys.driftReport(info.stream, info.batch)}`,
    details: { key: info.key, report: keys.driftReport(info.stream, info.batch), drift: info.drift, rule: report.rule, actions },
  });
}
