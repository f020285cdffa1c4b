/**
 * Turns an error pattern (its shape and a sample value) into a unit vector, so that similar
 * patterns lie close together. Two implementations: the built-in hashing embedder (the
 * default, deterministic, no model) and a sentence-embedding model run by transformers.js from
 * a local directory.
 */
export interface PatternText {
  /** The shape signature (see shape-signature.ts). */
  shape: string;
  /** One value with that shape. */
  sample: string;
}

export interface Embedder {
  /** Recorded in the cluster manifest, so a result says what made it. */
  readonly name: string;
  readonly dimensions: number;
  /** One L2-normalised vector per input, in input order. */
  embed(items: readonly PatternText[]): Promise<Float32Array[]>;
}

/** Scales a vector to unit length in place (a zero vector stays zero). */
export function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}
