import { describe, expect, it } from 'vitest';
import { faissIndexFactory } from '../../lib/cluster/faiss-index.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { mergeSimilarGroups, type ExactGroup } from '../../lib/cluster/merge-patterns.ts';

const unit = (...xs: number[]) => {
  const v = Float32Array.from(xs);
  const n = Math.hypot(...xs);
  return v.map((x) => x / n);
};

describe('faiss index (real addon)', () => {
  it('finds nearest neighbours by cosine, best first, and clamps k', () => {
    const index = faissIndexFactory.create(3);
    index.add([unit(1, 0, 0), unit(0, 1, 0), unit(1, 1, 0)]);
    const [hits] = index.search([unit(1, 0.1, 0)], 10);
    expect(hits!.map((h) => h.id)).toEqual([0, 2, 1]);
    expect(hits![0]!.score).toBeCloseTo(0.995, 3);
    expect(index.search([unit(1, 0, 0)], 0)).toEqual([[]]);
    expect(faissIndexFactory.create(3).search([unit(1, 0, 0)], 5)).toEqual([[]]);
    expect(() => index.add([unit(1, 0)])).toThrow(RangeError);
  });
});

describe('merging exact groups', () => {
  const group = (column: string, rule: string, shape: string, sample: string, cells = 10): ExactGroup => ({
    column,
    rule,
    shape,
    sample,
    cells,
  });
  const options = { embedder: new HashingEmbedder(), makeIndex: faissIndexFactory, similarity: 0.85 };

  it('merges near shapes of one column and rule, keeps distinct patterns apart', async () => {
    const groups = [
      group('note', 'type', 'a a a', 'call me later'),
      group('note', 'type', 'a a a a', 'please call me later'),
      group('paid_on', 'type', '9/9/9', '03/15/2026'),
      group('paid_on', 'type', '9.9.9', '15.03.2026'),
      group('paid_on', 'type', 'Aa 9, 9', 'Mar 5, 2026'),
    ];
    const roots = await mergeSimilarGroups(groups, options);
    expect(roots[1]).toBe(roots[0]);
    expect(new Set(roots.slice(2)).size).toBe(3);
  });

  it('never merges across columns or rules, however alike the shapes', async () => {
    const groups = [
      group('a', 'type', '9/9/9', '03/15/2026'),
      group('b', 'type', '9/9/9', '03/15/2026'),
      group('a', 'pattern', '9/9/9', '03/15/2026'),
    ];
    expect(await mergeSimilarGroups(groups, { ...options, similarity: 0 })).toEqual([0, 1, 2]);
  });

  it('with a threshold of 1 keeps every shape its own cluster; with -1 merges a column and rule whole', async () => {
    const groups = [group('c', 'type', '9.9 A', '1.5 USD'), group('c', 'type', '$9.9', '$1.50'), group('c', 'type', '9,9', '1,50')];
    expect(await mergeSimilarGroups(groups, { ...options, similarity: 1.0001 })).toEqual([0, 1, 2]);
    expect(await mergeSimilarGroups(groups, { ...options, similarity: -1 })).toEqual([0, 0, 0]);
  });
});
