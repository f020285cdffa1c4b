import { lineageJob, type LineageRun } from './lineage-run.ts';
import { v5 as uuidV5 } from 'uuid';

/** The namespace of vaultmend's run ids (a fixed random UUID: no other producer derives ids in it). */
const RUN_NAMESPACE = '3d0c5f5e-8b1e-4c55-9a51-2f6f1c7d2a90';

/**
 * The OpenLineage `runId` of a run: derived from the job, the batch and the run's qualifier (a
 * UUID v5), so every delivery of the same work, a retry or a takeover after a dead holder names
 * the same run and the events of one run meet under one id.
 *
 * @example
 * lineageRunId({ step: 'ingest', batch: 'orders-0123456789abcdef0123' }); // the same UUID every time
 */
export function lineageRunId(run: LineageRun): string {
  return uuidV5(`${lineageJob(run).job}\n${run.batch}\n${run.qualifier ?? ''}`, RUN_NAMESPACE);
}
