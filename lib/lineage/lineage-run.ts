/** The steps that emit run events, and the OpenLineage job each one is. */
const JOBS = {
  ingest: 'vaultmend.ingest',
  cluster: 'vaultmend.cluster',
  remediate: 'vaultmend.remediate',
  reconcile: 'vaultmend.reconcile',
} as const;

export type LineageStep = keyof typeof JOBS;

/**
 * One run of a step in OpenLineage terms: the step's job on one batch, and for the steps that run
 * more than once per batch, which run (`c-<16 hex>` for a cluster, `c-<16 hex>.reviewed` for a
 * cluster re-remediated with a person's decision, `r<n>` for a reconcile revision).
 */
export interface LineageRun {
  step: LineageStep;
  batch: string;
  qualifier?: string;
}

/**
 * The job of a step and the run's name in the vault's lineage keys (`<job>[.<qualifier>]`).
 *
 * @example
 * lineageJob({ step: 'remediate', batch, qualifier: 'c-0123456789abcdef' });
 * // { job: 'vaultmend.remediate', run: 'vaultmend.remediate.c-0123456789abcdef' }
 */
export function lineageJob(run: LineageRun): { job: string; run: string } {
  const job = JOBS[run.step];
  return { job, run: run.qualifier ? `${job}.${run.qualifier}` : job };
}
