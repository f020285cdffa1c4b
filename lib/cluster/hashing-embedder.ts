import { normalise, type Embedder, type PatternText } from './embedder.ts';

/**
 * The built-in embedder: character n-grams (1 to 3, with start and end marks, so that `9/9/9`
 * and `9.9.9` differ) of the shape and of its skeleton (see below), and n-grams of the sample
 * (2 and 3, lower-cased, digits folded to 0, at a quarter weight), hashed into a fixed number of signed buckets (the "hashing trick").
 * Deterministic, fast and needs no model: similar-looking patterns get similar vectors.
 */
export class HashingEmbedder implements Embedder {
  readonly name = 'hashing-ngrams-v1';
  constructor(readonly dimensions = 256) {}

  async embed(items: readonly PatternText[]): Promise<Float32Array[]> {
    return items.map((item) => this.vector(item));
  }

  private vector({ shape, sample }: PatternText): Float32Array {
    const v = new Float32Array(this.dimensions);
    this.addGrams(v, `^${shape}$`, [1, 2, 3], 1, 's');
    this.addGrams(v, `^${skeleton(shape)}$`, [1, 2, 3], 1, 'k');
    this.addGrams(v, `^${sample.toLowerCase().replace(/[0-9]/g, '0')}$`, [2, 3], 0.25, 'v');
    return normalise(v);
  }

  private addGrams(v: Float32Array, text: string, sizes: number[], weight: number, space: string): void {
    const chars = [...text];
    for (const n of sizes) {
      for (let i = 0; i + n <= chars.length; i++) {
        const h = fnv1a(`${space}${n}:${chars.slice(i, i + n).join('')}`);
        // The low bits pick the bucket, a high bit the sign (collisions then cancel out on average).
        v[h % this.dimensions]! += h & 0x80000000 ? -weight : weight;
      }
    }
  }
}

/**
 * The shape without case and word count: letters fold to `a` and a run of words separated by
 * spaces to one, so "Call me later!" and "pending?" (free text) come close, while the digits
 * and punctuation that tell one format from another stay.
 */
function skeleton(shape: string): string {
  return shape
    .replace(/A/g, 'a')
    .replace(/a+/g, 'a')
    .replace(/a( a)+/g, 'a');
}

/** 32-bit FNV-1a over the UTF-16 code units: a small, stable, well-spread string hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
