import { safeErrorMessage } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { buildRunEvent } from './build-run-event.ts';
import { claimWatchingStore } from './claim-watching-store.ts';
import type { EmitResult, LineageEmitter } from './lineage-emitter.ts';
import type { LineageRun } from './lineage-run.ts';
import { runOfClaim } from './run-of-claim.ts';
import type { RunEnd } from './step-lineage.ts';

/** A run's terminal event as emitted: which run, how it ended, and whether this call wrote it. */
export interface EndedRun {
  run: LineageRun;
  end: RunEnd;
  result: EmitResult;
}

const sameRun = (a: LineageRun, b: LineageRun) => a.step === b.step && a.batch === b.batch && a.qualifier === b.qualifier;

/**
 * The lineage of one step's work on one vault object (one record of an invocation). The step runs
 * on `store`, which reports the claims it wins: a won claim is the START of its run (at the
 * claim's time), so only the delivery that does the work emits, and a duplicate delivery, which
 * loses the claim, emits nothing. `end` writes each run's COMPLETE or FAIL; `fail` a FAIL for every
 * run started. Event writes are first-writer-wins (see LineageEmitter): a takeover or a retry of
 * the same run adds no second START, and no second COMPLETE.
 *
 * @example
 * const trace = new StepTrace(lineage, vault);
 * const outcome = await clusterOnce({ ...deps, store: trace.store }, key); // its claim wrote the START
 * await trace.end(await clusterRunEnds(vault, bucket, outcome)); // the COMPLETE (on a throw: trace.fail(error))
 */
export class StepTrace {
  readonly store: ObjectStore;
  private readonly runs: LineageRun[] = [];
  private readonly began = performance.now();

  constructor(
    private readonly emitter: LineageEmitter,
    store: ObjectStore,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.store = claimWatchingStore(store, async (claim) => {
      const run = runOfClaim(claim.scope);
      if (run) await this.start(run, new Date(claim.claimed_at));
    });
  }

  /** The runs this trace started, in order. */
  get started(): readonly LineageRun[] {
    return this.runs;
  }

  /** Milliseconds since the trace began (the invocation's start on this object). */
  elapsedMs(): number {
    return performance.now() - this.began;
  }

  /** START of a run (once per run and trace): from a won claim, or by hand for work that takes no claim. */
  async start(run: LineageRun, at: Date = this.now()): Promise<void> {
    if (this.runs.some((r) => sameRun(r, run))) return;
    this.runs.push(run);
    await this.emitter.emit(run, buildRunEvent({ eventType: 'START', eventTime: at, run }));
  }

  /** The terminal event of each end (of its run, or of every started run when it names none). */
  async end(ends: readonly RunEnd[]): Promise<EndedRun[]> {
    const ended: EndedRun[] = [];
    for (const end of ends) {
      for (const run of end.run ? [end.run] : this.runs) {
        const event = buildRunEvent({
          eventType: end.eventType,
          eventTime: this.now(),
          run,
          ...(end.lineage ? { inputs: end.lineage.inputs, outputs: end.lineage.outputs } : {}),
          ...(end.error !== undefined ? { error: end.error } : {}),
        });
        ended.push({ run, end, result: await this.emitter.emit(run, event) });
      }
    }
    return ended;
  }

  /**
   * FAIL, with the error's (value-free) message, of every run started except `spared`: runs that
   * ended otherwise (a revision finished before a later one threw), or that are not this
   * delivery's to fail (a run begun without a claim).
   */
  async fail(error: unknown, spared: readonly LineageRun[] = []): Promise<EndedRun[]> {
    const failing = this.runs.filter((run) => !spared.some((s) => sameRun(run, s)));
    return this.end(failing.map((run) => ({ eventType: 'FAIL' as const, error: safeErrorMessage(error), run })));
  }
}
