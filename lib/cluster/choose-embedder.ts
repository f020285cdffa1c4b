import type { Embedder } from './embedder.ts';
import { HashingEmbedder } from './hashing-embedder.ts';

/**
 * The embedder the settings ask for: a local sentence-embedding model when
 * EMBEDDINGS_MODEL_DIR is set (loaded only from there), else the built-in hashing embedder.
 */
export async function chooseEmbedder(settings: { EMBEDDINGS_MODEL_DIR?: string | undefined; EMBEDDINGS_MODEL: string }): Promise<Embedder> {
  if (!settings.EMBEDDINGS_MODEL_DIR) return new HashingEmbedder();
  const { TransformersEmbedder } = await import('./transformers-embedder.ts');
  return TransformersEmbedder.load(settings.EMBEDDINGS_MODEL_DIR, settings.EMBEDDINGS_MODEL);
}
