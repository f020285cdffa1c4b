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
 * (cells per lane), by step, stream and lane.
 *
 * @example
 * runMetrics({ step: 'ingest', batch }, lineage, 812);
 * // [{ name: 'StepLatency', unit: 'Milliseconds', value: 812, dimensions: { step: 'ingest', stream: 'orders' } }, ...]
 */
export function runMetrics(run: LineageRun, lineage: StepLineage, latencyMs: number): RunMetric[] {
  const base = { step: run.step, stream: streamOfBatch(run.batch) };
  const name = lineage.unit === 'rows' ? 'LaneRows' : 'LaneCells';
  return [
    { name: 'StepLatency', unit: 'Milliseconds', value: Math.round(latencyMs), dimensions: base },
    ...Object.entries(lineage.lanes).map(([lane, value]): RunMetric => ({ name, unit: 'Count', value, dimensions: { ...base, lane } })),
  ];
}
