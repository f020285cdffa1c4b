import { createRequire } from 'node:module';
import type { Neighbour, VectorIndex, VectorIndexFactory } from './vector-index.ts';

type Faiss = typeof import('faiss-node');

/**
 * The faiss addon (and OpenBLAS with it), loaded at the first index, not when the cluster function
 * starts: a batch without two shapes of one column and rule to compare never loads it. load() is the
 * asynchronous way (faissIndexFactory.load, awaited by mergeSimilarGroups); a create() before any
 * load() loads it synchronously (faiss-node is CommonJS). Both give the same module instance.
 */
let faiss: Faiss | undefined;
let loading: Promise<Faiss> | undefined;
const loadFaiss = async (): Promise<Faiss> => (faiss ??= await (loading ??= import('faiss-node').then((m) => m.default)));
const faissNow = (): Faiss => (faiss ??= createRequire(import.meta.url)('faiss-node') as Faiss);

/** Queries per call into faiss: its calls are synchronous, so large searches are cut up. */
const QUERY_CHUNK = 1024;

/**
 * Exact inner-product search in faiss (`IndexFlatIP`, the addon compiled against Debian's
 * faiss by infra/vector-index/build-faiss-node.sh). Exact, because a batch has at most a few
 * thousand distinct shapes: an approximate index would only add a way to miss a neighbour.
 * faiss takes flat number arrays, ends the process on k = 0 and throws on k > ntotal, so k is
 * clamped here.
 */
class FaissFlatIndex implements VectorIndex {
  readonly name = faissIndexFactory.name;
  private readonly index: InstanceType<Faiss['IndexFlatIP']>;

  constructor(private readonly dimensions: number) {
    this.index = new (faissNow().IndexFlatIP)(dimensions);
  }

  add(vectors: readonly Float32Array[]): void {
    if (vectors.length === 0) return;
    this.index.add(flatten(vectors, this.dimensions));
  }

  search(queries: readonly Float32Array[], k: number): Neighbour[][] {
    const stored = this.index.ntotal();
    const take = Math.min(Math.floor(k), stored);
    if (take < 1 || queries.length === 0) return queries.map(() => []);
    const results: Neighbour[][] = [];
    for (let start = 0; start < queries.length; start += QUERY_CHUNK) {
      const chunk = queries.slice(start, start + QUERY_CHUNK);
      const { distances, labels } = this.index.search(flatten(chunk, this.dimensions), take);
      for (let q = 0; q < chunk.length; q++) {
        const row: Neighbour[] = [];
        for (let j = q * take; j < (q + 1) * take; j++) if (labels[j]! >= 0) row.push({ id: labels[j]!, score: distances[j]! });
        results.push(row);
      }
    }
    return results;
  }
}

function flatten(vectors: readonly Float32Array[], dimensions: number): number[] {
  const flat = new Array<number>(vectors.length * dimensions);
  vectors.forEach((v, i) => {
    if (v.length !== dimensions) throw new RangeError(`vector ${i} has ${v.length} dimensions, the index ${dimensions}`);
    for (let d = 0; d < dimensions; d++) flat[i * dimensions + d] = v[d]!;
  });
  return flat;
}

export const faissIndexFactory: VectorIndexFactory = {
  name: 'faiss IndexFlatIP',
  load: async () => {
    await loadFaiss();
  },
  create: (dimensions) => new FaissFlatIndex(dimensions),
};
