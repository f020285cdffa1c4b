import type { ReviewDecision } from '../vault/review-decision.ts';
import type { Proposal } from './proposal.ts';
import type { ReviewDeps } from './review-deps.ts';

/** What an operator asks for a cluster waiting for review (validated with zod by the page and the CLI before it gets here). */
export type OperatorRequest =
  | { action: 'approve' | 'choose'; batch: string; cluster: string; operator: string; candidate: string; note?: string }
  | { action: 'edit'; batch: string; cluster: string; operator: string; source: string; confirm: boolean; note?: string }
  | { action: 'reject'; batch: string; cluster: string; operator: string; reason: string };

/**
 * What came of it: `decided` (the decision object is written, re-remediation follows through the
 * notification), `preview` (an edited function measured, nothing written: the operator confirms
 * next), `refused` (the gate refused the function, it passes no cell, the candidate is unknown, or
 * the cluster is not reviewable — nothing is written), or `already-decided` (someone decided first).
 */
export type OperatorOutcome =
  | { status: 'decided'; decision: ReviewDecision; measured: Proposal | null }
  | { status: 'preview'; measured: Proposal }
  | { status: 'refused'; reason: string; measured: Proposal | null }
  | { status: 'already-decided'; decision: ReviewDecision };

/** Takes an operator's decision on a cluster (see OperatorOutcome). */
export async function decideAsOperator(deps: ReviewDeps, request: OperatorRequest): Promise<OperatorOutcome> {
  void deps;
  void request;
  throw new Error('not built yet');
}
