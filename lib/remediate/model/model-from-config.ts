import type { RuntimeConfig } from '../../config.ts';
import { ConfigError, EgressRefusedError } from '../../errors.ts';
import { trustedCas } from '../../tls.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { ModelAccess } from './model-access.ts';
import { OllamaModel } from './ollama-model.ts';

/**
 * The model tier as configured: none without OLLAMA_HOST; a host the egress guard refuses is a
 * configuration error. OLLAMA_CA_FILE is read here, once (an unreadable file is a ConfigError),
 * and trusted for an https host. The circuit breaker opens after MODEL_BREAKER_FAILURES failures
 * in a row and lets a trial ask through MODEL_BREAKER_COOLDOWN_S later, by `now` (tests pass a
 * clock of their own).
 */
export function modelFromConfig(config: RuntimeConfig, now: () => number = () => Date.now()): ModelAccess | undefined {
  if (!config.OLLAMA_HOST) return undefined;
  const ca = config.OLLAMA_CA_FILE ? trustedCas(config.OLLAMA_CA_FILE, 'OLLAMA_CA_FILE') : undefined;
  try {
    const model = new OllamaModel({
      host: config.OLLAMA_HOST,
      model: config.OLLAMA_MODEL,
      timeoutMs: config.OLLAMA_TIMEOUT_MS,
      retries: config.OLLAMA_RETRIES,
      allowHosts: config.OLLAMA_ALLOW_HOSTS,
      ...(ca ? { ca } : {}),
    });
    const breaker = new CircuitBreaker(config.MODEL_BREAKER_FAILURES, config.MODEL_BREAKER_COOLDOWN_S * 1000, now);
    return new ModelAccess(model, config.MODEL_REPAIR_ROUNDS, breaker);
  } catch (error) {
    if (error instanceof EgressRefusedError)
      throw new ConfigError(`OLLAMA_HOST: ${error.message} (name it in OLLAMA_ALLOW_HOSTS if it is in your network)`);
    throw error;
  }
}
