/**
 * Opens after `threshold` model failures in a row (timeouts, errors, dropped streams): the
 * remaining clusters then skip the model and are quarantined as `llm-unavailable`, to be
 * replayed later, instead of each waiting out its own timeouts. A success closes it again.
 */
export class CircuitBreaker {
  private failuresInARow = 0;

  constructor(readonly threshold: number) {}

  get open(): boolean {
    return this.failuresInARow >= this.threshold;
  }

  recordFailure(): void {
    this.failuresInARow += 1;
  }

  recordSuccess(): void {
    this.failuresInARow = 0;
  }
}
