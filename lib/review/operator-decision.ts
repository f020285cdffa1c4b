import type { ClusterResult } from '../vault/cluster-result.ts';
import { vaultObjects } from '../vault/objects.ts';
import type { ReviewDecision } from '../vault/review-decision.ts';
import { findObject, putObjectIfAbsent } from '../vault/vault-object.ts';
import { measureProposal } from './measure-proposal.ts';
import type { Proposal } from './proposal.ts';
import { reviewCandidates } from './review-candidates.ts';
import type { ReviewDeps } from './review-deps.ts';
import { withCluster, type OpenCluster } from '../remediate/with-cluster.ts';

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

const WAITING = new Set(['needs-review', 'llm-unavailable']);

/**
 * Takes an operator's decision on a cluster (see OperatorOutcome). The function approved goes
 * through the same gate and the same measurement on every cell as any tier's; the decision is
 * written first-writer-wins, so of two operators deciding at once one decision stands.
 *
 * @example
 * const outcome = await decideAsOperator(deps, { action: 'choose', batch, cluster, operator: 'alice', candidate: 'date:d-m-y' });
 */
export async function decideAsOperator(deps: ReviewDeps, request: OperatorRequest): Promise<OperatorOutcome> {
  const { batch, cluster } = request;
  const standing = await findObject(deps.store, vaultObjects.review.at(batch, cluster));
  if (standing) return { status: 'already-decided', decision: standing };
  const result = await findObject(deps.store, vaultObjects.clusterResult.at(batch, cluster));
  const why = await notReviewable(deps, batch, result);
  if (why || !result) return { status: 'refused', reason: why ?? 'no result', measured: null };
  if (request.action === 'reject') return store(deps, decisionOf(request, result, null, request.reason), null);
  return withCluster(deps, batch, cluster, 'review', async (open) => {
    const picked = await pickFunction(deps, open, result, request);
    if ('refused' in picked) return { status: 'refused', reason: picked.refused, measured: null };
    const measured = await measureProposal(open, picked.candidate, request.action === 'edit' ? 'operator' : picked.origin);
    const refusal = refusalOf(measured);
    if (refusal) return { status: 'refused', reason: refusal, measured };
    if (request.action === 'edit' && !request.confirm) return { status: 'preview', measured };
    return store(deps, decisionOf(request, result, measured, request.note ?? ''), measured);
  });
}

/** Why the cluster cannot be decided on now (undefined: it can). */
async function notReviewable(deps: ReviewDeps, batch: string, result: ClusterResult | undefined): Promise<string | undefined> {
  if (!result) return 'the cluster has no result yet: remediate has not finished it (vaultmend status BATCH)';
  if (!WAITING.has(result.disposition)) return `the cluster is ${result.disposition}: it does not wait for review`;
  if (!(await deps.store.exists(vaultObjects.reconcileManifest.at(batch).key)))
    return 'the batch is not reconciled yet: decide once its first reconcile is in (vaultmend status BATCH)';
  return undefined;
}

/** The function a request names: a proposal by name (for `choose`, one of the rival readings), or the edited source. */
async function pickFunction(
  deps: ReviewDeps,
  open: OpenCluster,
  result: ClusterResult,
  request: Exclude<OperatorRequest, { action: 'reject' }>,
): Promise<
  { candidate: { name: string; source: string; reads?: string[]; writes?: string[] }; origin: Proposal['origin'] } | { refused: string }
> {
  if (request.action === 'edit') return { candidate: { name: 'operator:edit', source: request.source }, origin: 'operator' };
  const rivals = (result.measured.ambiguous_with ?? '').split(' / ').filter((n) => n !== '');
  if (request.action === 'choose' && !rivals.includes(request.candidate))
    return { refused: `${request.candidate} is not one of the rival readings (${rivals.join(', ') || 'the cluster has none'})` };
  const named = (await reviewCandidates(deps, open, result)).find((c) => c.candidate.name === request.candidate);
  return named ?? { refused: `no proposal is named ${request.candidate} (the cluster page lists them)` };
}

/** A measured function that may not be approved: the gate refused it, a limit stopped it, or it makes no cell pass. */
function refusalOf(measured: Proposal): string | undefined {
  if (!measured.gate.accepted) return `the gate refused the function: ${measured.gate.reason} (${measured.gate.detail})`;
  if (measured.stopped) return `the sandbox stopped the function: ${measured.stopped}`;
  if (measured.passed === 0) return `the function makes none of the ${measured.cells} cell(s) pass: ${JSON.stringify(measured.failures)}`;
  return undefined;
}

/** The decision object of a request. */
function decisionOf(request: OperatorRequest, result: ClusterResult, measured: Proposal | null, reason: string): ReviewDecision {
  return {
    schema_version: 1,
    batch: request.batch,
    stream: result.stream,
    cluster: request.cluster,
    column: result.column,
    rule: result.rule,
    action: request.action,
    operator: request.operator,
    at: new Date().toISOString(),
    function: measured ? { name: measured.name, source: measured.source, reads: measured.reads, writes: measured.writes } : null,
    measured: measured
      ? { cells: measured.cells, passed: measured.passed, pass_rate: measured.pass_rate, failures: measured.failures }
      : null,
    reason,
    candidate: request.action === 'approve' || request.action === 'choose' ? request.candidate : null,
  };
}

/** Writes the decision first-writer-wins. */
async function store(deps: ReviewDeps, decision: ReviewDecision, measured: Proposal | null): Promise<OperatorOutcome> {
  const stamped = { ...decision, at: (deps.now ?? (() => new Date()))().toISOString() };
  const written = await putObjectIfAbsent(deps.store, vaultObjects.review.at(decision.batch, decision.cluster), stamped);
  return written.created ? { status: 'decided', decision: stamped, measured } : { status: 'already-decided', decision: written.value };
}
