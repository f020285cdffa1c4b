import type { ClusterEvidence } from '../cluster-evidence.ts';
import type { OperatorOutcome, OperatorRequest } from '../operator-decision.ts';
import type { BatchView, StreamView } from '../pages/views.ts';

/**
 * What the review pages ask of the domain (vaultReviewService is the real one; tests pass a
 * fake). `undefined` means the batch or cluster does not exist (404).
 */
export interface ReviewService {
  overview(): Promise<StreamView[]>;
  batch(batch: string): Promise<BatchView | undefined>;
  cluster(batch: string, cluster: string): Promise<ClusterEvidence | undefined>;
  decide(request: OperatorRequest): Promise<OperatorOutcome | undefined>;
}
