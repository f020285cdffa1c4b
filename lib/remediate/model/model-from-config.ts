import type { RuntimeConfig } from '../../config.ts';
import { ConfigError, EgressRefusedError } from '../../errors.ts';
import { ModelAccess } from './model-access.ts';
import { OllamaModel } from './ollama-model.ts';

/** The model tier as configured: none without OLLAMA_HOST; a host the egress guard refuses is a configuration error. */
export function modelFromConfig(config: RuntimeConfig): ModelAccess | undefined {
  if (!config.OLLAMA_HOST) return undefined;
  try {
    const model = new OllamaModel({
      host: config.OLLAMA_HOST,
      model: config.OLLAMA_MODEL,
      timeoutMs: config.OLLAMA_TIMEOUT_MS,
      retries: config.OLLAMA_RETRIES,
      allowHosts: config.OLLAMA_ALLOW_HOSTS,
    });
    return new ModelAccess(model, config.MODEL_REPAIR_ROUNDS, config.MODEL_BREAKER_FAILURES);
  } catch (error) {
    if (error instanceof EgressRefusedError)
      throw new ConfigError(`OLLAMA_HOST: ${error.message} (name it in OLLAMA_ALLOW_HOSTS if it is in your network)`);
    throw error;
  }
}
