import { streamOfBatch } from '../keys.ts';
import type { LineageRun } from './lineage-run.ts';
import type { StepLineage } from './step-lineage.ts';

/** One metric value with its dimensions, published by the handler (CloudWatch EMF through Powertools). */
export interface RunMetric {
  name: 'StepLatency' | 'LaneRows' | 'LaneCells';
  unit: 'Milliseconds' | 'Count';
  value: number;
  dimensions: Record<string, string>;
}

/**
 * What a completed run counts: `StepLatency` (ms from the invocation's start to the run's end,
 * by step and stream) and its lanes, `LaneRows` (rows per lane) or, for remediate, `LaneCells`
 * (cells per lane), by step, stream and lane; a revision's or a reviewed cluster's lanes also by
 * `pass: again`.
 *
 * @example
 * runMetrics({ step: 'ingest', batch }, lineage, 812);
 * // [{ name: 'StepLatency', unit: 'Milliseconds', value: 812, dimensions: { step: 'ingest', stream: 'orders' } }, ...]
 */
export function runMetrics(run: LineageRun, lineage: StepLineage, latencyMs: number): RunMetric[] {
  const base = { step: run.step, stream: streamOfBatch(run.batch) };
  const name = lineage.unit === 'rows' ? 'LaneRows' : 'LaneCells';
  // A revision's lanes are the whole batch again, a reviewed cluster's its cells again: they count
  // apart (`pass: again`, a metric of its own), so the first pass sums to each batch once.
  const lanes = isAgain(run) ? { ...base, pass: 'again' } : base;
  return [
    { name: 'StepLatency', unit: 'Milliseconds', value: Math.round(latencyMs), dimensions: base },
    ...Object.entries(lineage.lanes).map(([lane, value]): RunMetric => ({ name, unit: 'Count', value, dimensions: { ...lanes, lane } })),
  ];
}

/** A run over work a first run already counted: reconcile revision n (`r<n>`), or a cluster re-remediated after review. */
function isAgain(run: LineageRun): boolean {
  const q = run.qualifier ?? '';
  return (run.step === 'reconcile' && /^r\d+$/.test(q)) || (run.step === 'remediate' && q.endsWith('.reviewed'));
}
