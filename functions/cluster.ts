import type { ClusterDeps } from '../lib/cluster/cluster-batch.ts';
import { clusterOnce, type ClusterDelivery } from '../lib/cluster/cluster-once.ts';
import { chooseEmbedder } from '../lib/cluster/choose-embedder.ts';
import { faissIndexFactory } from '../lib/cluster/faiss-index.ts';
import { clusterRunEnds } from '../lib/lineage/cluster-lineage.ts';
import { s3EventHandler } from './middleware/s3-event.ts';
import { traced } from './middleware/telemetry.ts';
import { config, logger, vault, vaultObjects } from './runtime.ts';

/** Built once per container: loading a model is the slow part. */
let deps: Promise<ClusterDeps> | undefined;
const clusterDeps = () =>
  (deps ??= chooseEmbedder(config).then((embedder) => ({
    store: vault,
    workDir: config.WORK_DIR,
    engine: { memoryLimit: config.ENGINE_MEMORY_LIMIT, threads: config.ENGINE_THREADS },
    embedder,
    makeIndex: faissIndexFactory,
    mergeSimilarity: config.CLUSTER_MERGE_SIMILARITY,
  })));

/**
 * manifests/<batch>/ingest.json written -> the batch's suspect rows compressed into clusters,
 * one work/<batch>/clusters/<cluster>.json each (each triggers remediate), or straight to
 * reconcile when there is nothing to fix. Failures throw, so the platform retries them.
 */
export const handler = s3EventHandler(async (event): Promise<ClusterDelivery[]> => {
  const results: ClusterDelivery[] = [];
  for (const object of vaultObjects(event)) {
    const clustering = await clusterDeps();
    const outcome = await traced(
      (store) => clusterOnce({ ...clustering, store }, object.key, config.CLAIM_LEASE_S * 1000),
      (o) => clusterRunEnds(vault, config.VAULT_BUCKET, o),
    );
    if (outcome.status === 'clustered') {
      const { manifest } = outcome;
      logger.info('batch clustered', {
        batch: outcome.batch,
        suspect_rows: manifest.suspect_rows,
        clusters: outcome.clusters.length,
        cluster_compression: manifest.cluster_compression,
        timings_ms: manifest.timings_ms,
      });
    } else if (outcome.status === 'claimed-elsewhere') {
      logger.info('batch is clustered by another delivery: skipped', {
        batch: outcome.batch,
        holder: outcome.holder,
        lease_until: outcome.lease_until,
      });
    } else {
      logger.info('nothing to cluster: batch goes to reconcile', { batch: outcome.batch, reason: outcome.reason });
    }
    results.push(outcome);
  }
  return results;
});
