/**
 * Nearest neighbours by inner product over unit vectors (= cosine similarity). The clustering
 * depends on this interface only; faiss-index.ts is the implementation.
 */
export interface Neighbour {
  /** Position of the vector in the order it was added. */
  id: number;
  /** Cosine similarity to the query, -1..1. */
  score: number;
}

export interface VectorIndex {
  readonly name: string;
  add(vectors: readonly Float32Array[]): void;
  /** The k nearest stored vectors of each query, best first (fewer when fewer are stored). */
  search(queries: readonly Float32Array[], k: number): Neighbour[][];
}

export interface VectorIndexFactory {
  /** e.g. "faiss IndexFlatIP", recorded in the cluster manifest. */
  readonly name: string;
  /**
   * Loads what the index needs (a native addon) before the first create(); idempotent. Absent: nothing
   * to load. Callers that can wait call it first, so that the load is asynchronous and happens only
   * when an index is really needed (a batch with nothing to merge never loads it).
   */
  load?(): Promise<void>;
  create(dimensions: number): VectorIndex;
}
