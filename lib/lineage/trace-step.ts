import { safeErrorMessage } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { LineageEmitter } from './lineage-emitter.ts';
import type { LineageRun } from './lineage-run.ts';
import { runMetrics, type RunMetric } from './run-metrics.ts';
import type { RunEnd } from './step-lineage.ts';
import { StepTrace } from './step-trace.ts';

/** How a step's outcome reads as run ends (the *-lineage.ts of each step). */
export type RunEnds<T> = (outcome: T, started: readonly LineageRun[]) => Promise<RunEnd[]> | RunEnd[];

/** Where a traced step's lineage goes: the emitter, the store the step works on, the metrics sink and a log for problems. */
export interface TraceDeps {
  lineage: LineageEmitter;
  store: ObjectStore;
  publish: (metric: RunMetric) => void;
  warn: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * One step's work on one vault object, with its lineage and metrics: `work` runs on the store as
 * seen through a StepTrace (a claim it wins is its run's START); a throw FAILs every run it
 * started and is rethrown; otherwise `ends` says which runs COMPLETE (or FAIL) with what
 * datasets. Each COMPLETE this call wrote publishes `StepLatency` and the lanes (`LaneRows` /
 * `LaneCells`, run-metrics.ts), so a redelivery counts nothing twice. Lineage never fails the
 * step: a problem in reading the outcome is logged and the outcome returned. `started` names a
 * run begun without a claim (an ingest part works in its batch's run): a throw does not FAIL it.
 * `finishedOnThrow` says which started runs completed before a throw (their output stands), so
 * they end as COMPLETE, not FAIL.
 *
 * @example
 * const outcome = await traceStep(deps, (store) => clusterOnce({ ...clusterDeps, store }, key), (o) => clusterRunEnds(vault, bucket, o));
 */
export async function traceStep<T>(
  deps: TraceDeps,
  work: (store: ObjectStore) => Promise<T>,
  ends: RunEnds<T>,
  started?: LineageRun,
  finishedOnThrow?: (started: readonly LineageRun[]) => Promise<RunEnd[]>,
): Promise<T> {
  const trace = new StepTrace(deps.lineage, deps.store);
  if (started) await trace.start(started);
  let outcome: T;
  try {
    outcome = await work(trace.store);
  } catch (error) {
    // Runs whose output stands COMPLETE even so; a run begun without a claim is left to its holder.
    const finished = (await finishedOnThrow?.(trace.started).catch(() => [])) ?? [];
    await trace.end(finished);
    await trace.fail(error, [...(started ? [started] : []), ...finished.flatMap((e) => (e.run ? [e.run] : []))]);
    throw error;
  }
  try {
    for (const ended of await trace.end(await ends(outcome, trace.started))) {
      // Only the delivery that wrote the COMPLETE counts the run (a write that failed is another delivery's to make).
      if (ended.result !== 'written' || ended.end.eventType !== 'COMPLETE' || !ended.end.lineage) continue;
      for (const metric of runMetrics(ended.run, ended.end.lineage, trace.elapsedMs())) deps.publish(metric);
    }
  } catch (error) {
    deps.warn('lineage of the step not recorded', { error: safeErrorMessage(error), runs: trace.started });
  }
  return outcome;
}
