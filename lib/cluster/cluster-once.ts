import { parseIngestManifestKey } from '../keys.ts';
import { claimScopes, DEFAULT_LEASE_MS, withClaim } from '../vault/claims.ts';
import { clusterBatch, type ClusterDeps, type ClusterOutcome } from './cluster-batch.ts';
import { faultPoint } from '../faults/fault-point.ts';

/** What one delivery of an ingest manifest did: the cluster outcome, or found another delivery clustering the batch. */
export type ClusterDelivery = ClusterOutcome | { status: 'claimed-elsewhere'; batch: string; holder: string; lease_until: string };

/**
 * A batch is clustered once, however often its ingest manifest is delivered: the deliveries
 * race for the claim `<batch>/cluster` and only its holder clusters (and so notifies remediate
 * once per cluster). A batch whose cluster manifest exists is re-run by `clusterBatch`, which
 * writes nothing that exists; a dead holder is taken over after `leaseMs`.
 *
 * @example
 * const outcome = await clusterOnce(deps, 'manifests/<batch>/ingest.json', 360_000);
 */
export async function clusterOnce(deps: ClusterDeps, manifestKey: string, leaseMs = DEFAULT_LEASE_MS): Promise<ClusterDelivery> {
  const { batch } = parseIngestManifestKey(manifestKey);
  const claimed = await withClaim(deps.store, claimScopes.cluster(batch), { leaseMs }, () => {
    faultPoint('cluster:after-claim');
    return clusterBatch(deps, manifestKey);
  });
  if (!claimed.held) return { status: 'claimed-elsewhere', batch, holder: claimed.by.holder, lease_until: claimed.by.lease_until };
  return claimed.value;
}
