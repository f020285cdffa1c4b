import { checkEgress } from '../remediate/egress-guard.ts';
import { safeErrorMessage } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { vaultObjects } from '../vault/objects.ts';
import { putObjectIfAbsent } from '../vault/vault-object.ts';
import { lineageJob, type LineageRun } from './lineage-run.ts';
import { postRunEvent } from './post-run-event.ts';
import { RunEventSchema, type RunEvent } from './run-event.ts';

/** Something that went wrong with an event, reported (logged and counted), never thrown: telemetry never fails a step. */
export interface LineageProblem {
  kind: 'write-failed' | 'post-failed';
  key: string;
  message: string;
}

/** What became of an event: written now, already in the vault (a redelivery), or not written (see the problem reported). */
export type EmitResult = 'written' | 'exists' | 'failed';

export interface LineageEmitterOptions {
  /** The vault: every event is kept there first. */
  store: ObjectStore;
  /** OPENLINEAGE_URL: where new events are POSTed besides; unset: the vault only. */
  endpoint?: string | undefined;
  /** Host names allowed for the endpoint besides loopback and private ranges (OPENLINEAGE_ALLOW_HOSTS). */
  allowHosts?: readonly string[];
  /** Per POST (default 5 s). */
  timeoutMs?: number;
  report: (problem: LineageProblem) => void;
}

/**
 * Writes each run event into the vault at `lineage/<batch>/<job>[.<qualifier>].<eventType>.json`,
 * first writer wins, so a redelivery, a retry or a takeover writes no event twice; and, when an
 * endpoint is configured, POSTs each event the vault did not have yet. The endpoint is checked
 * against the perimeter (the egress guard) when the emitter is built. POSTs run beside the step and
 * are awaited by `flush` (at the end of the invocation); a failed POST or vault write is reported,
 * never thrown, and a failed POST leaves the vault copy in place.
 *
 * @example
 * const lineage = new LineageEmitter({ store: vault, endpoint: config.OPENLINEAGE_URL, report: (p) => logger.warn(p.message, p) });
 * await lineage.emit(run, buildRunEvent({ eventType: 'START', eventTime: new Date(), run }));
 * await lineage.flush();
 */
export class LineageEmitter {
  private readonly endpoint: URL | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: LineageEmitterOptions) {
    this.endpoint = options.endpoint ? checkEgress(options.endpoint, options.allowHosts ?? []) : undefined;
  }

  async emit(run: LineageRun, event: RunEvent): Promise<EmitResult> {
    const ref = vaultObjects.lineageEvent.at(run.batch, lineageJob(run).run, event.eventType);
    const checked = RunEventSchema.safeParse(event);
    if (!checked.success) {
      const issues = checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      this.options.report({ kind: 'write-failed', key: ref.key, message: `not a run event: ${issues}` });
      return 'failed';
    }
    let created: boolean;
    try {
      created = (await putObjectIfAbsent(this.options.store, ref, event)).created;
    } catch (error) {
      this.options.report({ kind: 'write-failed', key: ref.key, message: safeErrorMessage(error) });
      return 'failed';
    }
    if (created && this.endpoint) this.post(ref.key, this.endpoint, event);
    return created ? 'written' : 'exists';
  }

  /** Waits for every POST under way (each ends within its timeout). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private post(key: string, endpoint: URL, event: RunEvent): void {
    const posting = postRunEvent(endpoint, event, this.options.timeoutMs ?? 5_000)
      .catch((error: unknown) => this.options.report({ kind: 'post-failed', key, message: safeErrorMessage(error) }))
      .finally(() => this.pending.delete(posting));
    this.pending.add(posting);
  }
}
