import type { ClusterEvidence } from '../cluster-evidence.ts';
import type { OperatorOutcome, OperatorRequest } from '../operator-decision.ts';
import type { BatchView, StreamView } from '../pages/views.ts';
import type { SchemaProposalService } from './schema-proposal-service.ts';

/**
 * What the review pages ask of the domain (vaultReviewService is the real one; tests pass a
 * fake). `undefined` means the batch or cluster does not exist (404). A service without the schema
 * proposal methods answers the proposals pages 404.
 */
export interface ReviewService extends Partial<SchemaProposalService> {
  overview(): Promise<StreamView[]>;
  batch(batch: string): Promise<BatchView | undefined>;
  cluster(batch: string, cluster: string): Promise<ClusterEvidence | undefined>;
  decide(request: OperatorRequest): Promise<OperatorOutcome | undefined>;
}
