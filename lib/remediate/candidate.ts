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
}
