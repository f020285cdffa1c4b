import type { Candidate } from './candidate.ts';
import { measure, type MeasureDeps, type Measurement, type PatternInputs } from './measure.ts';
import { synthesizerCandidates } from './synthesizer-catalog.ts';

/**
 * The deterministic tier: every candidate of the column's catalog is measured on the whole
 * pattern, and the one that makes the most cells pass wins (ties: the simpler one, listed
 * first). No model, no data invented: the contract is the only label.
 */
export interface Synthesis {
  best: Measurement | undefined;
  /**
   * Another candidate made as many cells pass with different outputs (03/04 read as March 4th
   * or as April 3rd): the data cannot tell which is right, so a person must.
   */
  ambiguous_with?: string;
  /** Every candidate tried, best first: the evidence for the result and the review page. */
  tried: { name: string; pass_rate: number; gate: string; stopped?: string }[];
}

/** Measures every candidate on the pattern and picks the one that makes the most cells pass (see Synthesis). */
export async function synthesize(
  deps: MeasureDeps,
  pattern: PatternInputs,
  candidates: Candidate[] = synthesizerCandidates(pattern.column, deps.contract),
): Promise<Synthesis> {
  let best: Measurement | undefined;
  const measured: Measurement[] = [];
  const tried: Synthesis['tried'] = [];
  for (const candidate of candidates) {
    const m = await measure(deps, pattern, candidate);
    measured.push(m);
    tried.push({
      name: candidate.name,
      pass_rate: m.pass_rate,
      gate: m.gate.accepted ? 'accepted' : m.gate.reason,
      ...(m.stopped ? { stopped: m.stopped.limit } : {}),
    });
    if (m.passed > 0 && (!best || m.passed > best.passed)) best = m;
  }
  tried.sort((a, b) => b.pass_rate - a.pass_rate);
  const rival = best && measured.find((m) => m !== best && m.passed === best.passed && disagree(best, m));
  return { best, tried, ...(rival ? { ambiguous_with: rival.candidate.name } : {}) };
}

/** Whether two measurements that pass the same inputs write different values for any of them. */
function disagree(a: Measurement, b: Measurement): boolean {
  const key = (o: Measurement['outcomes'][number]) => JSON.stringify([o.input.value, o.input.row ?? null]);
  const theirs = new Map(b.outcomes.map((o) => [key(o), o]));
  return a.outcomes.some((o) => {
    const other = theirs.get(key(o));
    return o.verdict === 'ok' && other?.verdict === 'ok' && JSON.stringify(other.writes[0]) !== JSON.stringify(o.writes[0]);
  });
}
