import { keys } from '../../keys.ts';
import { batchStatus } from '../../operators/batch-status.ts';
import { overview } from '../../operators/overview.ts';
import type { BatchReport } from '../../reconcile/batch-report.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { clusterEvidence } from '../cluster-evidence.ts';
import { decideAsOperator } from '../operator-decision.ts';
import type { ReviewDeps } from '../review-deps.ts';
import { schemaProposalService, withOpenProposals } from './schema-proposal-service.ts';
import type { ReviewService } from './service.ts';

async function readReport(store: ObjectStore, batch: string): Promise<BatchReport | null> {
  const key = keys.report(batch);
  return (await store.exists(key)) ? (JSON.parse(await store.readText(key)) as BatchReport) : null;
}

/**
 * The review service over the vault: the overview and batch pages read the store only; the
 * cluster page and decisions take `reviewDeps()` (called on first use, so the sandbox process
 * starts only when a cluster is measured). A cluster without its work object does not exist.
 * The overview counts each stream's open schema proposals.
 */
export function vaultReviewService(store: ObjectStore, reviewDeps: () => ReviewDeps): ReviewService {
  const clusterExists = (batch: string, cluster: string) => store.exists(keys.cluster(batch, cluster));
  return {
    ...schemaProposalService(store),
    overview: async () => withOpenProposals(store, await overview(store)),
    batch: async (batch) => {
      const [status, report] = await Promise.all([batchStatus(store, batch), readReport(store, batch)]);
      return status.stage === 'not-ingested' && !report ? undefined : { status, report };
    },
    cluster: async (batch, cluster) => ((await clusterExists(batch, cluster)) ? clusterEvidence(reviewDeps(), batch, cluster) : undefined),
    decide: async (request) =>
      (await clusterExists(request.batch, request.cluster)) ? decideAsOperator(reviewDeps(), request) : undefined,
  };
}
