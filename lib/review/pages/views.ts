import type { BatchStatus } from '../../operators/batch-status.ts';
import type { StreamOverview } from '../../operators/overview.ts';
import type { BatchReport } from '../../reconcile/batch-report.ts';

/** A decision taken on a cluster, as the overview lists it next to the cluster (absent before the domain records it). */
export interface DecisionNote {
  action: string;
  operator: string;
  at: string;
  /** Whether a reconcile revision includes it yet. */
  applied?: boolean;
}

/**
 * A batch's status as the pages read it: BatchStatus, with the fields the review flow adds read
 * as optional (the stages `waiting-for-review` and `revising`, the revision, each waiting cluster's decision).
 */
export type BatchStatusView = Omit<BatchStatus, 'stage' | 'waiting_for_review'> & {
  stage: BatchStatus['stage'] | 'waiting-for-review' | 'revising';
  revision?: number | null;
  waiting_for_review: (BatchStatus['waiting_for_review'][number] & { decision?: DecisionNote | null })[];
};

/** A stream on the overview page (StreamOverview with its batches read as BatchStatusView, and its open schema proposals when counted). */
export type StreamView = Omit<StreamOverview, 'batches'> & { batches: BatchStatusView[]; open_proposals?: number };

/** What the batch page shows: where the batch is, and its report once it is reconciled. */
export interface BatchView {
  status: BatchStatusView;
  report: BatchReport | null;
}
