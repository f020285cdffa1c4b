import type { LineageRun } from './lineage-run.ts';
import type { InputDataset, OutputDataset } from './run-event.ts';

/**
 * What one run of a step read and wrote, as its COMPLETE event lists it, and its lanes: rows per
 * lane (ingest: clean, suspect, quarantined; cluster: suspect; reconcile: clean, fixed,
 * quarantined) or, for remediate, cells per lane (fixed, quarantined).
 *
 * @example
 * const lineage: StepLineage = { inputs: [raw], outputs: [clean, suspect], lanes: { clean: 3, suspect: 1, quarantined: 0 }, unit: 'rows' };
 */
export interface StepLineage {
  inputs: InputDataset[];
  outputs: OutputDataset[];
  lanes: Record<string, number>;
  unit: 'rows' | 'cells';
}

/** How a run ended: COMPLETE with its lineage, or FAIL with why; `run` unset: every run the invocation started. */
export interface RunEnd {
  eventType: 'COMPLETE' | 'FAIL';
  run?: LineageRun;
  lineage?: StepLineage;
  error?: string;
}
