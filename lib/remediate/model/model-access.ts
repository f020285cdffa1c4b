import { CircuitBreaker } from './circuit-breaker.ts';
import type { ModelIdentity, OllamaModel } from './ollama-model.ts';

/**
 * The model tier's state in one function container: the client, its circuit breaker, and the
 * model's identity (asked once, then kept; a failed ask is not kept, so it is tried again).
 */
export class ModelAccess {
  readonly breaker: CircuitBreaker;
  private identity: ModelIdentity | undefined;

  /** `breaker`: a failure count to open at (the default cool-down and the system clock), or a breaker of its own. */
  constructor(
    readonly model: OllamaModel,
    readonly rounds: number,
    breaker: number | CircuitBreaker,
  ) {
    this.breaker = typeof breaker === 'number' ? new CircuitBreaker(breaker) : breaker;
  }

  async identify(): Promise<ModelIdentity> {
    this.identity ??= await this.model.identify();
    return this.identity;
  }
}
