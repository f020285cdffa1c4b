import { maskValue } from '../remediate/mask-pii.ts';
import { reviewCandidates } from './review-candidates.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import { vaultObjects } from '../vault/objects.ts';
import type { ReviewDecision } from '../vault/review-decision.ts';
import { findObject } from '../vault/vault-object.ts';
import { measureProposal } from './measure-proposal.ts';
import type { Proposal } from './proposal.ts';
import type { ReviewDeps } from './review-deps.ts';
import { withCluster, type OpenCluster } from '../remediate/with-cluster.ts';

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
  /** What the automatic tiers did (null before the cluster's result is in). */
  result: {
    disposition: ClusterResult['disposition'];
    tier: ClusterResult['tier'];
    confidence: number;
    threshold: number;
    reason: string;
    tried: ClusterResult['evidence']['tried'];
    model: string | null;
    /** What each model round said of the pattern or why its function was refused. */
    reasoning: string[];
    /** A dependency or domain cluster's evidence: its rules and the weakest figures of its table. */
    dependency?: NonNullable<ClusterResult['evidence']['dependency']>;
  } | null;
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

/** How many proposals the page shows (the rivals of an ambiguous reading always). */
export const PROPOSALS = 4;
const WAITING = new Set(['needs-review', 'llm-unavailable']);

/**
 * The evidence of one cluster (see ClusterEvidence). Throws ClusterNotFoundError when the batch or the cluster does not exist.
 *
 * @example
 * const evidence = await clusterEvidence(deps, 'orders-0123456789abcdef0123', 'c-00000000000000aa');
 */
export async function clusterEvidence(deps: ReviewDeps, batch: string, cluster: string): Promise<ClusterEvidence> {
  return withCluster(deps, batch, cluster, 'review', async (open) => {
    const { spec } = open;
    const [result, decision, reviewed, reconciled] = await Promise.all([
      findObject(deps.store, vaultObjects.clusterResult.at(batch, cluster)),
      findObject(deps.store, vaultObjects.review.at(batch, cluster)),
      findObject(deps.store, vaultObjects.reviewedResult.at(batch, cluster)),
      deps.store.exists(vaultObjects.reconcileManifest.at(batch).key),
    ]);
    const maskKey = `${batch}/${cluster}`;
    const ambiguous = result?.measured.ambiguous_with;
    return {
      batch,
      stream: spec.stream,
      cluster,
      column: spec.column,
      rule: spec.rule,
      pii: spec.pii,
      cells: spec.cells,
      shapes: spec.shapes,
      samples: spec.samples.map((s) => ({
        value: s.value !== null && spec.pii ? maskValue(s.value, maskKey) : s.value,
        shape: s.shape,
        occurrences: s.occurrences,
      })),
      result: result ? automatic(result) : null,
      ...(ambiguous ? { ambiguous_with: ambiguous } : {}),
      proposals: result && WAITING.has(result.disposition) ? await proposals(deps, open, result) : [],
      decision: decision ?? null,
      reviewed: reviewed ?? null,
      reviewable: reviewability(result, decision, reconciled),
    };
  });
}

/** What the automatic tiers did with the cluster, as the page shows it. */
function automatic(result: ClusterResult): NonNullable<ClusterEvidence['result']> {
  const reasoning = result.evidence.rounds.flatMap((r) => {
    const said = [r['pattern_type'], r['problem']].filter((v): v is string => typeof v === 'string' && v !== '');
    return said.length ? [`round ${String(r['round'] ?? '?')}: ${said.join(' — ')}`] : [];
  });
  return {
    disposition: result.disposition,
    tier: result.tier,
    confidence: result.confidence,
    threshold: result.threshold,
    reason: result.reason,
    tried: result.evidence.tried,
    model: result.model?.name ?? null,
    reasoning,
    ...(result.evidence.dependency ? { dependency: result.evidence.dependency } : {}),
  };
}

/** Whether a decision can be taken now. */
function reviewability(
  result: ClusterResult | undefined,
  decision: ReviewDecision | undefined,
  reconciled: boolean,
): ClusterEvidence['reviewable'] {
  if (decision) return { ok: false, why: `already decided: ${decision.action} by ${decision.operator} at ${decision.at}` };
  if (!result) return { ok: false, why: 'the cluster has no result yet (remediate has not finished it)' };
  if (!WAITING.has(result.disposition)) return { ok: false, why: `the cluster is ${result.disposition}: it does not wait for review` };
  if (!reconciled) return { ok: false, why: 'the batch is not reconciled yet: decide once its first reconcile is in' };
  return { ok: true };
}

/**
 * The candidates worth a person's look (reviewCandidates), measured on every cell: those the gate
 * accepts that make any cell pass, most cells first, at most PROPOSALS (the rivals of an ambiguous reading always).
 */
async function proposals(deps: ReviewDeps, open: OpenCluster, result: ClusterResult): Promise<Proposal[]> {
  const measured: Proposal[] = [];
  for (const f of await reviewCandidates(deps, open, result)) measured.push(await measureProposal(open, f.candidate, f.origin));
  const useful = measured.filter((p) => p.gate.accepted && p.passed > 0).sort((a, b) => b.passed - a.passed);
  const rivals = (result.measured.ambiguous_with ?? '').split(' / ').filter((n) => n !== '');
  return useful.filter((p, i) => i < PROPOSALS || rivals.includes(p.name));
}
