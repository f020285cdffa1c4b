import type { Embedder } from './embedder.ts';
import type { VectorIndexFactory } from './vector-index.ts';

/** Cells of one column failing one rule with one shape: the exact grouping, before merging. */
export interface ExactGroup {
  column: string;
  rule: string;
  shape: string;
  cells: number;
  /** One value of the group, embedded with its shape. */
  sample: string;
}

export interface MergeOptions {
  embedder: Embedder;
  makeIndex: VectorIndexFactory;
  /** Cosine similarity at or above which two shapes are one pattern. */
  similarity: number;
  /** Neighbours looked at per shape. */
  neighbours?: number;
}

/**
 * Merges exact groups whose patterns are similar: within one (column, rule) — never across,
 * since a fix is for one column's failure of one rule — each group's embedding is searched in
 * a vector index and linked to every neighbour at or above the similarity threshold; linked
 * groups form one cluster (single linkage, by union-find). Returns, for each group, the index
 * of the first group of its cluster (input order decides, so the result is deterministic).
 */
export async function mergeSimilarGroups(groups: readonly ExactGroup[], options: MergeOptions): Promise<number[]> {
  const root = groups.map((_, i) => i);
  const find = (i: number): number => {
    while (root[i] !== i) i = root[i] = root[root[i]!]!;
    return i;
  };
  const union = (a: number, b: number) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) root[Math.max(ra, rb)] = Math.min(ra, rb);
  };

  const partitions = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const key = JSON.stringify([g.column, g.rule]);
    partitions.set(key, [...(partitions.get(key) ?? []), i]);
  });
  for (const members of partitions.values()) {
    if (members.length < 2) continue;
    const vectors = await options.embedder.embed(members.map((i) => ({ shape: groups[i]!.shape, sample: groups[i]!.sample })));
    await options.makeIndex.load?.();
    const index = options.makeIndex.create(options.embedder.dimensions);
    index.add(vectors);
    const found = index.search(vectors, Math.min(options.neighbours ?? 8, members.length));
    found.forEach((neighbours, q) => {
      for (const n of neighbours) if (n.id !== q && n.score >= options.similarity) union(members[q]!, members[n.id]!);
    });
  }
  return groups.map((_, i) => find(i));
}
