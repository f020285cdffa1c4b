/** The cool-down when none is given: MODEL_BREAKER_COOLDOWN_S's default. */
export const DEFAULT_BREAKER_COOLDOWN_MS = 60_000;

/**
 * The model's circuit breaker, one per function container. It opens after `threshold` model
 * failures in a row (timeouts, refused connections, 5xx, dropped streams — whatever the client
 * gives up on as ModelUnavailableError): the clusters after that skip the model and are
 * quarantined as `llm-unavailable`, to be replayed later, instead of each waiting out its own
 * timeouts. `cooldownMs` after it opened it is half-open: `open` reads false, so the next ask
 * goes through as a trial; a failure re-opens it (a new cool-down), a success closes it. Any
 * success resets the count. A half-open breaker lets every ask through until one is recorded
 * (a container remediates one cluster at a time, so that is one trial).
 *
 * @example
 *   const breaker = new CircuitBreaker(2, 60_000);
 *   breaker.recordFailure();
 *   breaker.recordFailure(); // state 'open': open is true for 60 s
 *   // ... 60 s later: state 'half-open', open is false, one ask goes through
 *   breaker.recordSuccess(); // state 'closed' (a failure instead: 'open' for another 60 s)
 */
export class CircuitBreaker {
  private failuresInARow = 0;
  /** When it last opened (`now()`); undefined while closed. */
  private openedAt: number | undefined;

  constructor(
    readonly threshold: number,
    readonly cooldownMs: number = DEFAULT_BREAKER_COOLDOWN_MS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /** True while the model must not be asked (open and cooling down). */
  get open(): boolean {
    return this.state === 'open';
  }

  /** Model failures since the last success. */
  get failures(): number {
    return this.failuresInARow;
  }

  recordFailure(): void {
    this.failuresInARow += 1;
    const state = this.state;
    if (state === 'half-open' || (state === 'closed' && this.failuresInARow >= this.threshold)) this.openedAt = this.now();
  }

  recordSuccess(): void {
    this.failuresInARow = 0;
    this.openedAt = undefined;
  }
}
