import type { ClusterResult } from '../vault/cluster-result.ts';
import type { ReviewDecision } from '../vault/review-decision.ts';
import type { Proposal } from './proposal.ts';
import type { ReviewDeps } from './review-deps.ts';

/**
 * Everything a person needs to settle a cluster waiting for review, read from the vault and
 * measured again: the column and rule, the shapes and samples (pii masked), what the tiers
 * tried and why they stopped (the model's reasoning, if any), the best proposals measured on
 * every cell with before/after samples, and the decision once one is taken.
 */
export interface ClusterEvidence {
  batch: string;
  stream: string;
  cluster: string;
  column: string;
  rule: string;
  pii: boolean;
  cells: number;
  shapes: { shape: string; cells: number }[];
  /** Representative values (masked when the column is pii). */
  samples: { value: string | null; shape: string; occurrences: number }[];
  /** What the automatic tiers did. */
  result: {
    disposition: ClusterResult['disposition'];
    tier: ClusterResult['tier'];
    confidence: number;
    threshold: number;
    reason: string;
    tried: ClusterResult['evidence']['tried'];
    model: string | null;
    /** The model's reasoning, one entry per round that gave one. */
    reasoning: string[];
  };
  /** `date:d-m-y / date:m-d-y` when two readings fit the data alike: the operator chooses. */
  ambiguous_with?: string;
  /** The best proposals, best first (the rival readings of an ambiguous cluster both). */
  proposals: Proposal[];
  /** The decision, once a person took it. */
  decision: ReviewDecision | null;
  /** The result of re-remediating with the decision, once it is in. */
  reviewed: ClusterResult | null;
  /** Whether a decision can be taken now, and if not why (already decided, batch not reconciled yet, cluster not waiting). */
  reviewable: { ok: true } | { ok: false; why: string };
}

/** The evidence of one cluster (see ClusterEvidence). Throws when the batch or the cluster does not exist. */
export async function clusterEvidence(deps: ReviewDeps, batch: string, cluster: string): Promise<ClusterEvidence> {
  void deps;
  void batch;
  void cluster;
  throw new Error('not built yet');
}
