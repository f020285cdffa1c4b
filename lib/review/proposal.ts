/**
 * A function proposed for a cluster waiting for review, measured on every cell of the cluster
 * like any other candidate: the gate's verdict, the pass rate, why the other cells still fail,
 * and before/after of sample cells (pii columns masked).
 */
export interface Proposal {
  name: string;
  source: string;
  reads: string[];
  writes: string[];
  /** Where it came from: the synthesizer's catalog, a model answer, the registry, or an operator's edit. */
  origin: 'synthesizer' | 'model' | 'registry' | 'operator';
  gate: { accepted: true } | { accepted: false; reason: string; detail: string };
  /** The sandbox limit that stopped it, if any. */
  stopped?: string;
  cells: number;
  passed: number;
  pass_rate: number;
  failures: Record<string, number>;
  examples: { before: string | null; after: (string | null)[]; verdict: string }[];
}
