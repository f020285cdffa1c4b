import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Embedder, PatternText } from './embedder.ts';

type FeatureExtractor = (
  texts: string[],
  options: { pooling: 'mean'; normalize: boolean },
) => Promise<{ dims: number[]; data: Float32Array }>;

/**
 * A sentence-embedding model (all-MiniLM-L6-v2 by default) run by transformers.js on the CPU,
 * loaded only from a local directory: remote models are switched off and no cache is written,
 * so nothing leaves the perimeter and nothing is fetched at run time. A pattern is embedded as
 * its sample value followed by its shape; the vectors are mean-pooled and L2-normalised.
 */
export class TransformersEmbedder implements Embedder {
  private constructor(
    readonly name: string,
    readonly dimensions: number,
    private readonly extract: FeatureExtractor,
  ) {}

  static async load(modelDir: string, model: string): Promise<TransformersEmbedder> {
    const root = isAbsolute(modelDir) ? modelDir : resolve(modelDir);
    if (!existsSync(join(root, model, 'config.json'))) {
      throw new ConfigError(`EMBEDDINGS_MODEL_DIR: no model ${model} in ${root} (expected ${join(root, model, 'config.json')})`);
    }
    const { env, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = root;
    env.useFSCache = false;
    env.useBrowserCache = false;
    const extractor = (await pipeline('feature-extraction', model, { device: 'cpu', dtype: 'fp32' })) as unknown as FeatureExtractor;
    const probe = await extractor(['probe'], { pooling: 'mean', normalize: true });
    return new TransformersEmbedder(`transformers.js:${model}`, probe.dims.at(-1)!, extractor);
  }

  async embed(items: readonly PatternText[]): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < items.length; start += BATCH) {
      const texts = items.slice(start, start + BATCH).map((i) => `${i.sample} ${i.shape}`);
      const output = await this.extract(texts, { pooling: 'mean', normalize: true });
      for (let r = 0; r < texts.length; r++) vectors.push(output.data.slice(r * this.dimensions, (r + 1) * this.dimensions));
    }
    return vectors;
  }
}

const BATCH = 64;
