import { lineageFacets } from './lineage-facets.ts';
import { lineageJob, type LineageRun } from './lineage-run.ts';
import { OPENLINEAGE } from './openlineage-spec.ts';
import { lineageRunId } from './run-id.ts';
import type { InputDataset, OutputDataset, RunEvent, RunEventType } from './run-event.ts';

/** What one run event says: the transition, when, which run, its datasets and (FAIL) why. */
export interface RunEventInput {
  eventType: RunEventType;
  eventTime: Date;
  run: LineageRun;
  inputs?: InputDataset[];
  outputs?: OutputDataset[];
  /** FAIL only: the error's message (no row values: the project's errors carry names, counts and codes). */
  error?: string;
}

/**
 * An OpenLineage RunEvent of a step's run: the spec version's `schemaURL`, vaultmend's producer
 * URI, the job `vaultmend.<step>` in namespace `vaultmend`, the run id derived from (job, batch,
 * qualifier), the datasets, and on FAIL the `errorMessage` run facet.
 *
 * @example
 * const event = buildRunEvent({ eventType: 'START', eventTime: new Date(), run: { step: 'cluster', batch } });
 */
export function buildRunEvent(input: RunEventInput): RunEvent {
  const error = input.eventType === 'FAIL' ? (input.error ?? 'failed') : undefined;
  return {
    eventType: input.eventType,
    eventTime: input.eventTime.toISOString(),
    producer: OPENLINEAGE.producer,
    schemaURL: OPENLINEAGE.schemaURL,
    run: {
      runId: lineageRunId(input.run),
      ...(error !== undefined ? { facets: { errorMessage: lineageFacets.errorMessage(error) } } : {}),
    },
    job: { namespace: OPENLINEAGE.namespace, name: lineageJob(input.run).job },
    inputs: input.inputs ?? [],
    outputs: input.outputs ?? [],
  };
}
