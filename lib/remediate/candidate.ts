/**
 * A proposed transformation function, from any tier: its source text (an arrow function that
 * must pass the gate) and, for a row-level function, the other columns it reads and the
 * columns it writes (its output is then an object `{column: value}`).
 */
export interface Candidate {
  /** What it does, e.g. `trim`, `date:m-d-y`, `split-trailing-token:state`. */
  name: string;
  source: string;
  /** Other columns of the row the function reads (row-level functions only). */
  reads?: string[];
  /** Columns it writes, the cluster's own first (row-level functions only); never a primary key (measure refuses it). */
  writes?: string[];
  /**
   * An evidence function's lookup table (group key -> the value its group's evidence supports),
   * given to it as its third argument; its SHA-256 is named in `source` (see evidence-function.ts).
   */
  lookup?: Record<string, string>;
}

/**
 * A stored function (a decision's, a registry entry's, a person's) as the candidate it was: its
 * `reads` and `writes` only when it has any (a value function has none).
 *
 * @example
 * const m = await measure(deps, pattern, candidateOf(decision.function));
 */
export function candidateOf(fn: {
  name: string;
  source: string;
  reads: string[];
  writes: string[];
  lookup?: Record<string, string> | undefined;
}): Candidate {
  return {
    name: fn.name,
    source: fn.source,
    ...(fn.reads.length ? { reads: fn.reads } : {}),
    ...(fn.writes.length ? { writes: fn.writes } : {}),
    ...(fn.lookup ? { lookup: fn.lookup } : {}),
  };
}
