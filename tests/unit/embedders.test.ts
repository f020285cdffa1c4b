import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseEmbedder } from '../../lib/cluster/choose-embedder.ts';
import type { Embedder } from '../../lib/cluster/embedder.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { TransformersEmbedder } from '../../lib/cluster/transformers-embedder.ts';
import { ConfigError } from '../../lib/errors.ts';

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

async function behavesAsAnEmbedder(embedder: Embedder) {
  const items = [
    { shape: '9/9/9', sample: '03/15/2026' },
    { shape: '9.9.9', sample: '15.03.2026' },
    { shape: '9/9/9', sample: '03/15/2026' },
  ];
  const [a, b, again] = await embedder.embed(items);
  expect(a!.length).toBe(embedder.dimensions);
  expect(norm(a!)).toBeCloseTo(1, 5);
  expect([...again!]).toEqual([...a!]);
  expect(cosine(a!, b!)).toBeLessThan(0.999);
}

describe('hashing embedder (the default)', () => {
  it('is a deterministic unit-vector embedder', async () => {
    await behavesAsAnEmbedder(new HashingEmbedder());
  });

  it('puts patterns of one shape close together and different shapes apart', async () => {
    const [usd1, usd2, slashes] = await new HashingEmbedder().embed([
      { shape: '9.9 A', sample: '12.50 USD' },
      { shape: '9.9 A', sample: '1299.95 USD' },
      { shape: '9/9/9', sample: '03/15/2026' },
    ]);
    expect(cosine(usd1!, usd2!)).toBeGreaterThan(0.9);
    expect(cosine(usd1!, slashes!)).toBeLessThan(0.5);
  });

  it('is what the settings give without a model directory', async () => {
    expect((await chooseEmbedder({ EMBEDDINGS_MODEL: 'all-MiniLM-L6-v2' })).name).toBe(new HashingEmbedder().name);
  });
});

/**
 * The real transformers.js loading code on a tiny random-weight BERT that this test generates
 * (tests/support/make-tiny-embedding-model.py, Debian's python3-onnx): no MiniLM weights can
 * be had here, so the vectors mean nothing, but the loading and inference path is the real one.
 */
describe('transformers.js embedder (local model only)', () => {
  let dir: string;
  const realFetch = globalThis.fetch;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vm-model-'));
    execFileSync('python3', ['tests/support/make-tiny-embedding-model.py', dir, 'tiny-minilm'], { timeout: 60_000, stdio: 'pipe' });
    // Any attempt to reach a model hub fails the test.
    globalThis.fetch = async (input: string | URL | Request) => {
      throw new Error(`network use during a local model load: ${String(input)}`);
    };
  });
  afterAll(() => {
    globalThis.fetch = realFetch;
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the model from EMBEDDINGS_MODEL_DIR and embeds deterministically, offline', async () => {
    const embedder = await chooseEmbedder({ EMBEDDINGS_MODEL_DIR: dir, EMBEDDINGS_MODEL: 'tiny-minilm' });
    expect(embedder.name).toBe('transformers.js:tiny-minilm');
    expect(embedder.dimensions).toBe(32);
    await behavesAsAnEmbedder(embedder);
  }, 60_000);

  it('refuses a directory without the model, naming what it looked for', async () => {
    await expect(TransformersEmbedder.load(dir, 'no-such-model')).rejects.toThrow(ConfigError);
    await expect(TransformersEmbedder.load(dir, 'no-such-model')).rejects.toThrow(/no-such-model.*config\.json/);
  });
});
