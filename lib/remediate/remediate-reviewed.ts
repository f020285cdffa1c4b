import { DataLossError } from '../errors.ts';
import { keys, parseReviewKey } from '../keys.ts';
import { claimScopes, DEFAULT_LEASE_MS, withClaim } from '../vault/claims.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import type { Decision } from '../vault/decision.ts';
import { vaultObjects } from '../vault/objects.ts';
import type { ReviewDecision } from '../vault/review-decision.ts';
import { findObject, readObject, writeObject } from '../vault/vault-object.ts';
import { applyDecision, type Applied } from './apply-decision.ts';
import { patternSignature, registerApproved } from './function-registry.ts';
import { measure } from './measure.ts';
import type { RemediateDeps } from './remediate-cluster.ts';
import { withCluster, type OpenCluster } from './with-cluster.ts';
import { faultPoint } from '../faults/fault-point.ts';
import { candidateOf } from './candidate.ts';

/** What one delivery of a person's decision did. */
export type ReviewedOutcome =
  | { status: 'reviewed' | 'already-reviewed'; result: ClusterResult }
  | { status: 'rejected'; batch: string; cluster: string; reason: string }
  | { status: 'claimed-elsewhere'; batch: string; cluster: string; holder: string; lease_until: string };

/**
 * remediate, for a person's decision (`reviews/<batch>/<cluster>.json`): the cluster is
 * re-remediated with the approved function — measured again on every cell, applied in one set
 * operation, its audit rows at tier `operator` with the operator's name — into the `.reviewed`
 * outputs (the first ones stay as they were), the function is registered as approved by
 * `operator` for the pattern, and `reviewed/<batch>/<cluster>.json` is written last (it triggers
 * the batch's next reconcile revision). Once only, like every step; a rejection changes nothing.
 *
 * @example
 * const outcome = await remediateReviewed(deps, 'reviews/orders-0123456789abcdef0123/c-00000000000000aa.json');
 */
export async function remediateReviewed(deps: RemediateDeps, reviewKey: string): Promise<ReviewedOutcome> {
  const { batch, cluster } = parseReviewKey(reviewKey);
  const review = await readObject(deps.store, vaultObjects.review.at(batch, cluster));
  if (!review.function) return { status: 'rejected', batch, cluster, reason: review.reason };
  const done = await findObject(deps.store, vaultObjects.reviewedResult.at(batch, cluster));
  if (done) return { status: 'already-reviewed', result: done };
  const claimed = await withClaim(
    deps.store,
    claimScopes.review(batch, cluster),
    { leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS },
    async () => {
      faultPoint('review:after-claim');
      const again = await findObject(deps.store, vaultObjects.reviewedResult.at(batch, cluster));
      if (again) return { status: 'already-reviewed' as const, result: again };
      return withCluster(deps, batch, cluster, 'remediate-reviewed', (open) => applyReview(deps, open, review));
    },
  );
  if (!claimed.held) return { status: 'claimed-elsewhere', batch, cluster, holder: claimed.by.holder, lease_until: claimed.by.lease_until };
  return claimed.value;
}

/** Phases: the decision as a tier decision, measured again, applied to every cell, registered, and the reviewed result written last. */
async function applyReview(deps: RemediateDeps, open: OpenCluster, review: ReviewDecision): Promise<ReviewedOutcome> {
  const { spec, engine, dir, pattern } = open;
  const fn = review.function!;
  const candidate = candidateOf(fn);
  const measurement = await measure(open.measureDeps, pattern, candidate);
  const decision = asDecision(review, measurement.pass_rate);
  const applied = await applyDecision(engine, deps.store, dir, spec, pattern, decision, measurement, {
    staged: keys.reviewedStaged(spec.stream, spec.batch, spec.cluster),
    quarantine: keys.reviewedQuarantineCells(spec.stream, spec.batch, spec.cluster),
    audit: keys.reviewedAuditPart(spec.batch, spec.cluster),
    operator: review.operator,
  });
  if (applied.counts.cells !== spec.cells)
    throw new DataLossError(`cluster ${spec.cluster}: ${applied.counts.cells} cells applied, the cluster holds ${spec.cells}`);
  const shapes = spec.shapes.map((s) => s.shape);
  await registerApproved(deps.store, patternSignature(spec.column, spec.rule, shapes), {
    schema_version: 1,
    stream: spec.stream,
    column: spec.column,
    rule: spec.rule,
    shapes,
    function: fn,
    approved_by: 'operator',
    origin: {
      tier: 'operator',
      batch: spec.batch,
      cluster: spec.cluster,
      confidence: decision.confidence,
      model: null,
      operator: review.operator,
    },
  });
  const result = reviewedResult(open, review, decision, measurement, applied);
  faultPoint('review:before-result');
  await writeObject(deps.store, vaultObjects.reviewedResult.at(spec.batch, spec.cluster), result);
  return { status: 'reviewed', result };
}

/** A person's decision in the form the apply phase takes: tier `operator`, confidence the measured pass rate. */
function asDecision(review: ReviewDecision, passRate: number): Decision {
  return {
    schema_version: 1,
    tier: 'operator',
    disposition: 'fix',
    function: review.function,
    confidence: passRate,
    model: null,
    model_calls: 0,
    reason: `operator ${review.operator}: ${review.action} ${review.function?.name ?? ''}${review.reason ? ` (${review.reason})` : ''}`,
    tried: [],
    rounds: [],
    decided_at: review.at,
  };
}

/** The reviewed cluster's result (the same schema as a tier's result). */
function reviewedResult(
  open: OpenCluster,
  review: ReviewDecision,
  decision: Decision,
  measurement: Awaited<ReturnType<typeof measure>>,
  applied: Applied,
): ClusterResult {
  const { spec } = open;
  return {
    schema_version: 1,
    batch: spec.batch,
    stream: spec.stream,
    cluster: spec.cluster,
    column: spec.column,
    rule: spec.rule,
    disposition: applied.counts.quarantined_cells === 0 ? 'fixed' : 'partly-fixed',
    tier: 'operator',
    function: decision.function,
    confidence: decision.confidence,
    threshold: 0,
    model: null,
    model_calls: 0,
    measured: { cells: measurement.cells, passed: measurement.passed, pass_rate: measurement.pass_rate, failures: measurement.failures },
    counts: applied.counts,
    reason: decision.reason,
    evidence: { tried: [], rounds: [], examples: applied.examples },
    outputs: applied.outputs,
    decided_at: review.at,
  };
}
