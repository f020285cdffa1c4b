import type { DeadLetterRecord } from './dead-letter.ts';
import type { FunctionLimits } from './function-limits.ts';
import type { Invoke } from './invoke.ts';
import type { BridgeLog } from './log.ts';
import type { QueuedEvent, QueueStore } from './queue-store.ts';

/** What /queue reports per function: events waiting (for a slot or a retry), invocations running, dead letters. */
export interface LaneCounts {
  pending: number;
  running: number;
  dead: number;
}

/** What the dispatcher works with; `retryDelaysS` has one delay per retry after a failed attempt. */
export interface DispatcherOptions {
  queue: QueueStore;
  limits: ReadonlyMap<string, FunctionLimits>;
  invoke: Invoke;
  functionName: (fn: string) => string;
  retryDelaysS: readonly number[];
  /** Added to each function's timeout: how long an invocation may take before it counts as failed. */
  graceS: number;
  log: BridgeLog;
  onDeadLetter: (record: DeadLetterRecord, path: string) => Promise<void>;
}

/** The first and the longest pause of a function's queue while its endpoint refuses connections. */
const HOLD_MS = { first: 500, max: 10_000 };

interface Lane {
  fn: string;
  name: string;
  limit: number;
  timeoutMs: number;
  ready: QueuedEvent[];
  waiting: Map<QueuedEvent, NodeJS.Timeout>;
  running: number;
  dead: number;
  hold?: NodeJS.Timeout;
  holdMs: number;
}

/**
 * Lambda's asynchronous invocation, for the bridge's queue: at most `reservedConcurrency`
 * invocations of a function at once, the rest waiting; a failed or timed-out attempt retried
 * after each of `retryDelaysS`, then dead-lettered (record, log line, alert). A queue file is
 * removed only once its event succeeded or was dead-lettered. While the endpoint refuses
 * connections (serverless-offline down or restarting) the function's queue pauses and no attempt
 * is counted: the function never ran.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #lanes = new Map<string, Lane>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #shutdown = new AbortController();
  #closed = false;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    for (const [fn, limits] of options.limits) {
      this.#lanes.set(fn, {
        fn,
        name: options.functionName(fn),
        limit: limits.reservedConcurrency,
        timeoutMs: Math.round((limits.timeoutS + options.graceS) * 1000),
        ready: [],
        waiting: new Map(),
        running: 0,
        dead: 0,
        holdMs: HOLD_MS.first,
      });
    }
  }

  /** Counts the dead letters already on disk, so that /queue reports them after a restart. */
  async countDeadLetters(): Promise<void> {
    for (const lane of this.#lanes.values()) lane.dead = await this.#o.queue.countDead(lane.fn);
  }

  /** A new event (its file written): invoked as soon as its function has a free slot. */
  submit(entry: QueuedEvent): void {
    const lane = this.#lane(entry);
    lane.ready.push(entry);
    this.#pump(lane);
  }

  /** An event found in the queue at start: dead-lettered if its attempts are spent, else due now or at its `retry_at`. */
  restore(entry: QueuedEvent): void {
    const lane = this.#lane(entry);
    if (entry.record.attempts.length > this.#o.retryDelaysS.length) {
      this.#track(this.#deadLetter(lane, entry));
      return;
    }
    const due = entry.record.retry_at ? Date.parse(entry.record.retry_at) - Date.now() : 0;
    if (due > 0) this.#retryLater(lane, entry, due);
    else this.submit(entry);
  }

  /** Per function: pending, running, dead. */
  counts(): Record<string, LaneCounts> {
    return Object.fromEntries(
      [...this.#lanes.values()].map((l) => [l.fn, { pending: l.ready.length + l.waiting.size, running: l.running, dead: l.dead }]),
    );
  }

  /** Stops: no new invocation, running ones abandoned (their files stay for the next bridge), timers cleared. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#shutdown.abort();
    for (const lane of this.#lanes.values()) {
      for (const timer of lane.waiting.values()) clearTimeout(timer);
      lane.waiting.clear();
      clearTimeout(lane.hold);
    }
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  #lane(entry: QueuedEvent): Lane {
    const lane = this.#lanes.get(entry.fn);
    if (!lane) throw new Error(`no function ${entry.fn} is routed`);
    return lane;
  }

  #track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.#o.log('dispatch failed', { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }

  #pump(lane: Lane): void {
    while (!this.#closed && !lane.hold && lane.running < lane.limit && lane.ready.length > 0) {
      const entry = lane.ready.shift()!;
      lane.running++;
      this.#track(
        this.#attempt(lane, entry).finally(() => {
          lane.running--;
          this.#pump(lane);
        }),
      );
    }
  }

  async #attempt(lane: Lane, entry: QueuedEvent): Promise<void> {
    const { log, queue } = this.#o;
    const attempt = entry.record.attempts.length + 1;
    const started = new Date();
    const outcome = await this.#o.invoke(lane.name, entry.record.event, lane.timeoutMs, this.#shutdown.signal);
    if (outcome.kind === 'aborted') return;
    if (outcome.kind === 'unreachable') {
      lane.ready.unshift(entry);
      this.#holdLane(lane, outcome.error);
      return;
    }
    lane.holdMs = HOLD_MS.first;
    const line = { function: lane.name, status: outcome.status, keys: entry.record.keys, attempt, duration_ms: outcome.durationMs };
    if (outcome.kind === 'succeeded') {
      log('invoked', { ...line, outcome: 'succeeded' });
      await queue
        .discard(entry)
        .catch((error: unknown) => log('queue file not removed; a restart delivers it again', { file: entry.file, error: String(error) }));
      return;
    }
    entry.record.attempts.push({
      attempt,
      started_at: started.toISOString(),
      ended_at: new Date().toISOString(),
      duration_ms: outcome.durationMs,
      ...(outcome.status !== undefined ? { status: outcome.status } : {}),
      error: outcome.error,
    });
    const delayS = this.#o.retryDelaysS[attempt - 1];
    if (delayS === undefined) {
      log('invoked', { ...line, outcome: 'failed', error: outcome.error, next: 'dead-letter' });
      await this.#deadLetter(lane, entry);
      return;
    }
    entry.record.retry_at = new Date(Date.now() + delayS * 1000).toISOString();
    log('invoked', { ...line, outcome: 'failed', error: outcome.error, next: 'retry', retry_in_s: delayS });
    await queue
      .save(entry)
      .catch((error: unknown) => log('queue file not updated with the attempt', { file: entry.file, error: String(error) }));
    if (!this.#closed) this.#retryLater(lane, entry, delayS * 1000);
  }

  #retryLater(lane: Lane, entry: QueuedEvent, ms: number): void {
    const timer = setTimeout(() => {
      lane.waiting.delete(entry);
      lane.ready.push(entry);
      this.#pump(lane);
    }, ms);
    lane.waiting.set(entry, timer);
  }

  #holdLane(lane: Lane, error: string): void {
    if (lane.hold || this.#closed) return;
    this.#o.log('lambda endpoint unreachable; the queue waits', { function: lane.name, error, retry_in_ms: lane.holdMs });
    lane.hold = setTimeout(() => {
      lane.hold = undefined;
      this.#pump(lane);
    }, lane.holdMs);
    lane.holdMs = Math.min(lane.holdMs * 2, HOLD_MS.max);
  }

  async #deadLetter(lane: Lane, entry: QueuedEvent): Promise<void> {
    const record: DeadLetterRecord = {
      function: lane.fn,
      function_name: lane.name,
      queue_file: entry.file,
      received_at: entry.record.received_at,
      dead_lettered_at: new Date().toISOString(),
      keys: entry.record.keys,
      attempts: entry.record.attempts,
      event: entry.record.event,
    };
    let path: string;
    try {
      path = await this.#o.queue.deadLetter(entry, record);
    } catch (error) {
      this.#o.log('dead letter not written; the queue file stays for the next start', { file: entry.file, error: String(error) });
      return;
    }
    lane.dead++;
    this.#o.log('dead-letter', {
      function: lane.name,
      keys: record.keys,
      attempts: record.attempts.length,
      error: record.attempts.at(-1)?.error,
      record: path,
    });
    this.#track(this.#o.onDeadLetter(record, path));
  }
}
