import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LineageRun } from '../../lib/lineage/lineage-run.ts';
import type { RunMetric } from '../../lib/lineage/run-metrics.ts';
import type { RunEnd } from '../../lib/lineage/step-lineage.ts';
import { traceStep, type RunEnds } from '../../lib/lineage/trace-step.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { lineage, logger, metrics, vault } from '../runtime.ts';

/**
 * A step's work on one vault object, traced (lib/lineage/trace-step.ts) on the function's vault:
 * its OpenLineage run events into the vault (and to OPENLINEAGE_URL), its latency and lanes as
 * Powertools metrics (namespace `vaultmend`, one EMF line each).
 *
 * @example
 * const outcome = await traced((store) => clusterOnce({ ...deps, store }, key), (o) => clusterRunEnds(vault, config.VAULT_BUCKET, o));
 */
export function traced<T>(
  work: (store: ObjectStore) => Promise<T>,
  ends: RunEnds<T>,
  started?: LineageRun,
  finishedOnThrow?: (started: readonly LineageRun[]) => Promise<RunEnd[]>,
): Promise<T> {
  const publish = (point: RunMetric) => {
    const metric = metrics.singleMetric();
    metric.addDimensions(point.dimensions);
    metric.addMetric(point.name, point.unit === 'Milliseconds' ? MetricUnit.Milliseconds : MetricUnit.Count, point.value);
  };
  return traceStep(
    { lineage, store: vault, publish, warn: (message, fields) => logger.warn(message, fields) },
    work,
    ends,
    started,
    finishedOnThrow,
  );
}
