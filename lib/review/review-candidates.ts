import { candidateOf, type Candidate } from '../remediate/candidate.ts';
import { findRegistered, patternSignature } from '../remediate/function-registry.ts';
import { synthesizerCandidates } from '../remediate/synthesizer-catalog.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import type { Proposal } from './proposal.ts';
import type { ReviewDeps } from './review-deps.ts';
import type { OpenCluster } from '../remediate/with-cluster.ts';

/**
 * The functions a person may approve for a cluster by name: the registry's entry for the
 * pattern, the synthesizer's catalog for the column, and each function the model proposed
 * (`model:round-<n>`), without repeats of the same source.
 *
 * @example
 * const named = (await reviewCandidates(deps, open, result)).find((c) => c.candidate.name === 'date:d-m-y');
 */
export async function reviewCandidates(
  deps: ReviewDeps,
  open: OpenCluster,
  result: ClusterResult,
): Promise<{ candidate: Candidate; origin: Proposal['origin'] }[]> {
  const { spec, column, contract } = open;
  const found: { candidate: Candidate; origin: Proposal['origin'] }[] = [];
  const signature = patternSignature(
    spec.column,
    spec.rule,
    spec.shapes.map((s) => s.shape),
  );
  const registered = await findRegistered(deps.store, spec.stream, signature);
  if (registered) {
    found.push({ candidate: candidateOf(registered.function), origin: 'registry' });
  }
  for (const candidate of synthesizerCandidates(column, contract)) found.push({ candidate, origin: 'synthesizer' });
  result.evidence.rounds.forEach((r, i) => {
    const source = r['transformation'];
    if (typeof source === 'string') found.push({ candidate: { name: `model:round-${i + 1}`, source }, origin: 'model' });
  });
  const seen = new Set<string>();
  return found.filter((f) => !seen.has(f.candidate.source) && seen.add(f.candidate.source));
}
