import type { Candidate } from '../remediate/candidate.ts';
import { maskValue } from '../remediate/mask-pii.ts';
import { measure } from '../remediate/measure.ts';
import type { OpenCluster } from '../remediate/with-cluster.ts';
import type { Proposal } from './proposal.ts';

const EXAMPLES = 6;

/**
 * A candidate measured on every cell of an open cluster, as the review page shows it: the gate's
 * verdict, the pass rate, why cells still fail, and before/after of the commonest inputs (passing
 * ones first; pii masked with a key of the cluster's, the same value always masked alike).
 *
 * @example
 * const p = await measureProposal(open, { name: 'date:d-m-y', source }, 'synthesizer');
 */
export async function measureProposal(open: OpenCluster, candidate: Candidate, origin: Proposal['origin']): Promise<Proposal> {
  const m = await measure(open.measureDeps, open.pattern, candidate);
  const maskKey = `${open.spec.batch}/${open.spec.cluster}`;
  const mask = (v: string | null) => (v !== null && open.spec.pii ? maskValue(v, maskKey) : v);
  const shown = [...m.outcomes.filter((o) => o.verdict === 'ok'), ...m.outcomes.filter((o) => o.verdict !== 'ok')].slice(0, EXAMPLES);
  return {
    name: candidate.name,
    source: candidate.source,
    reads: candidate.reads ?? [],
    writes: candidate.writes ?? [],
    origin,
    gate: m.gate,
    ...(m.stopped ? { stopped: m.stopped.limit } : {}),
    cells: m.cells,
    passed: m.passed,
    pass_rate: m.pass_rate,
    failures: m.failures,
    examples: shown.map((o) => ({ before: mask(o.input.value), after: o.writes.map(mask), verdict: o.verdict })),
  };
}
