import ivm from 'isolated-vm';
import {
  DEFAULT_SANDBOX_LIMITS,
  LOAD_POLICY,
  type JsonChunk,
  type ChunkResults,
  type RunListener,
  type SandboxLimits,
  type SandboxLimit,
} from './sandbox-protocol.ts';

/**
 * The isolate runner: a transformation function runs only here, in a separate V8 isolate (no Node
 * APIs at all: no process, require, timers or network) with a memory limit and a time limit
 * per call. Every function gets a fresh context, prepared so that it cannot learn the time or
 * draw real randomness, and with its built-ins frozen; WebAssembly is removed because its
 * memory is not counted against the isolate's limit. A whole cluster is applied in one call
 * (one chunk of values), so the cost of crossing into the isolate is paid once, not per value.
 *
 * The time limit is a budget of CPU time, not of wall time, so that a busy machine cannot change
 * a verdict (see applyChunks): isolated-vm's `timeout` counts wall time, so each call runs with a
 * wall allowance, and a call stopped by it is judged by the CPU time its thread really got.
 *
 * It runs in the sandbox process (sandbox.ts), never in a function's own process: some huge
 * allocations are fatal V8 errors that abort the whole process, and no isolate limit catches
 * them. That process needs `--no-node-snapshot` (isolated-vm's requirement on Node 20+).
 */
export type {
  Scalar,
  Output,
  SandboxLimit,
  AppliedValues,
  Stopped,
  ApplyResult,
  JsonChunk,
  SandboxUsage,
  ChunkResults,
  TryStart,
  SandboxMessage,
  RunListener,
  SandboxLimits,
} from './sandbox-protocol.ts';
export { DEFAULT_SANDBOX_LIMITS, LOAD_POLICY, wallBoundMs } from './sandbox-protocol.ts';

/** Characters all outputs of one call may add up to; beyond it the call stops as output-too-large. */
const MAX_CALL_CHARS = 8_000_000;
const TOO_LARGE = 'vaultmend:output-too-large';

/**
 * CPU time of the calling thread in ms: the isolate's synchronous calls run on it. Not
 * `isolate.cpuTime`: with the prebuilt isolated-vm 7 binary it advances like wall time
 * (measured: 1,554 ms of "CPU" for a call whose process used 240 ms under load).
 */
const threadCpuMs = (): number => {
  const usage = typeof process.threadCpuUsage === 'function' ? process.threadCpuUsage() : process.cpuUsage();
  return (usage.user + usage.system) / 1_000;
};

/**
 * Runs inside the isolate, once per context: removes what is uncounted or non-deterministic,
 * freezes the built-ins, and evaluates to the runner the host calls with each chunk.
 */
const SETUP = String.raw`'use strict';
(() => {
  const g = globalThis;
  for (const name of ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'Intl', 'FinalizationRegistry', 'WeakRef', 'performance', 'eval']) {
    delete g[name];
  }
  // A seeded generator (mulberry32), reseeded before every call: same input, same output.
  let seed = 0;
  Math.random = function random() {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // The clock stands still at the epoch: Date.now(), new Date() and Date() all read it.
  const RealDate = Date;
  RealDate.now = function now() { return 0; };
  const FixedDate = new Proxy(RealDate, {
    construct(target, args) { return args.length === 0 ? new target(0) : new target(...args); },
    apply() { return new RealDate(0).toString(); },
  });
  RealDate.prototype.constructor = FixedDate;
  g.Date = FixedDate;
  // Second wall behind the gate: no way from a function to the code-from-text constructors.
  for (const fn of [function () {}, function* () {}, async function () {}, async function* () {}]) {
    Object.defineProperty(Object.getPrototypeOf(fn), 'constructor', { value: undefined, writable: false, configurable: false });
  }
  const seen = new Set();
  const freeze = (value) => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
    seen.add(value);
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) {
      const d = Reflect.getOwnPropertyDescriptor(value, key);
      if (d && 'value' in d) freeze(d.value);
    }
    freeze(Object.getPrototypeOf(value));
  };
  const hidden = [function* () {}, async function () {}, async function* () {}, [][Symbol.iterator](), ''[Symbol.iterator](),
    new Map()[Symbol.iterator](), new Set()[Symbol.iterator](), ''.matchAll(/a/g)];
  for (const value of hidden) freeze(value);
  // RegExp.prototype stays unfrozen: V8 takes a slow path for every regular-expression call
  // on a modified RegExp prototype (measured 5x slower).
  seen.add(RegExp.prototype);
  freeze(g);
  const ERROR_NAMES = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'URIError', 'EvalError']);
  const errorName = (e) => {
    try {
      return e !== null && typeof e === 'object' && ERROR_NAMES.has(e.name) ? e.name : 'thrown';
    } catch {
      return 'thrown';
    }
  };
  // Column names only: these would set a prototype if the host ever assigned the object.
  const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
  const plain = (value, maxChars) => {
    if (value === null || value === undefined) return [null];
    const type = typeof value;
    if (type === 'string') return value.length > maxChars ? undefined : [value];
    if (type === 'number') return Number.isFinite(value) ? [value] : undefined;
    if (type === 'boolean') return [value];
    return undefined;
  };
  return function run(fn, valuesJson, rowsJson, lookupJson, maxChars, maxCallChars, tooLarge) {
    seed = 0x2545f491;
    const values = JSON.parse(valuesJson);
    const rows = rowsJson === null ? null : JSON.parse(rowsJson);
    // No prototype: an index reaches the table's own strings only.
    const lookup = lookupJson === null ? undefined : Object.freeze(Object.assign(Object.create(null), JSON.parse(lookupJson)));
    const outputs = new Array(values.length);
    const errors = [];
    let chars = 0;
    for (let i = 0; i < values.length; i++) {
      let result;
      try {
        // No prototype: a column named like a property (raw, constructor) is just its text.
        result = fn(values[i], rows === null ? undefined : Object.freeze(Object.assign(Object.create(null), rows[i])), lookup);
      } catch (e) {
        outputs[i] = null;
        errors.push([i, errorName(e)]);
        continue;
      }
      let out = plain(result, maxChars);
      if (out === undefined && result !== null && typeof result === 'object' && Object.getPrototypeOf(result) === Object.prototype) {
        // A row-level function writes several columns: a plain object of plain values.
        const keys = Object.keys(result);
        const copy = {};
        let ok = keys.length > 0 && keys.length <= 16;
        for (const key of keys) {
          const v = ok && !RESERVED_KEYS.has(key) && key.length <= 63 ? plain(result[key], maxChars) : undefined;
          if (v === undefined) { ok = false; break; }
          copy[key] = v[0];
          if (typeof v[0] === 'string') chars += v[0].length;
        }
        out = ok ? [copy] : undefined;
      }
      if (out === undefined) {
        outputs[i] = null;
        errors.push([i, 'bad-output']);
        continue;
      }
      outputs[i] = out[0];
      if (typeof out[0] === 'string') chars += out[0].length;
      if (chars > maxCallChars) throw new RangeError(tooLarge);
    }
    return JSON.stringify({ outputs, errors });
  };
})()`;

function classify(error: unknown): { limit: SandboxLimit; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes(TOO_LARGE)) return { limit: 'output-too-large', message: `outputs over ${MAX_CALL_CHARS} characters` };
  if (/timed out/i.test(message)) return { limit: 'timeout', message };
  if (/memory limit|disposed/i.test(message)) return { limit: 'memory', message };
  return { limit: 'sandbox-error', message: message.slice(0, 300) };
}

/** A call that used more CPU time than the limit: the function's own verdict, whatever the load. */
class CpuBudgetSpent extends Error {
  constructor(cpuMs: number, wallMs: number, limitMs: number) {
    super(`used ${Math.round(cpuMs)} ms of CPU time in one call (limit ${limitMs} ms; ${Math.round(wallMs)} ms of wall time)`);
  }
}

/** A call stopped at its wall allowance before it had used its CPU budget: the machine was busy. */
class Starved extends Error {
  constructor(
    readonly cpuMs: number,
    readonly wallMs: number,
  ) {
    super(`stopped after ${Math.round(wallMs)} ms of wall time with ${Math.round(cpuMs)} ms of CPU time`);
  }
}

/** CPU time spent by the calls of one try so far, and who hears of each call. */
interface Spent {
  cpuMs: number;
  maxCallCpuMs: number;
  calls: number;
  onCall: RunListener['onCall'];
}

/** One try of an application: its answer, or the stop that says the machine was too busy to judge it. */
type Attempt =
  | { kind: 'done'; result: ChunkResults; cpuMs: number; maxCallCpuMs: number }
  | { kind: 'starved'; stop: Starved; cpuMs: number; maxCallCpuMs: number };

/** One isolate, reused across functions (each in a fresh context) until a limit disposes it. */
export class IsolateRunner {
  private isolate: ivm.Isolate | undefined;
  readonly limits: SandboxLimits;

  constructor(limits: Partial<SandboxLimits> = {}) {
    this.limits = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
  }

  /**
   * The isolate for the next function: a new one when the last was disposed, or when what
   * earlier contexts left on its heap (not yet collected) takes half its limit — otherwise an
   * innocent function could be stopped for memory it never used.
   */
  private liveIsolate(): ivm.Isolate {
    const current = this.isolate;
    if (current && !current.isDisposed) {
      const heap = current.getHeapStatisticsSync();
      if (heap.used_heap_size + heap.externally_allocated_size < (this.limits.memoryMb * 1024 * 1024) / 2) return current;
      current.dispose();
    }
    this.isolate = new ivm.Isolate({ memoryLimit: this.limits.memoryMb });
    this.fresh = true;
    return this.isolate;
  }

  /** Whether the current isolate has run no function yet. */
  private fresh = false;

  /**
   * Applies `source` to each chunk (see applyInContext), judging the time limit by CPU time
   * (LOAD_POLICY): a try whose call was stopped at its wall allowance before using its CPU budget
   * is run again from the start on a fresh isolate with a longer allowance (the function is
   * deterministic, so nothing but the cost changes); a call that used its budget is a `timeout`,
   * even if a long allowance let it finish. A memory stop on an isolate that ran other functions
   * before is tried once more on a new one: only a stop there is the function's.
   * `listener` hears of each try and each call before it starts.
   */
  async applyChunks(source: string, chunks: JsonChunk[], listener: RunListener = {}): Promise<ChunkResults> {
    const { timeoutMs } = this.limits;
    const { firstWallFactor, headroom, maxWallFactor, maxTries } = LOAD_POLICY;
    const calls = chunks.length + 2;
    let wallMs = Math.ceil(timeoutMs * firstWallFactor);
    let attempt = 1;
    let totalWallMs = 0;
    let memoryRetried = false;
    for (;;) {
      listener.onTry?.({ attempt, wallMs, calls });
      // Lets the progress message out before the synchronous run blocks this thread.
      await new Promise((resolve) => setImmediate(resolve));
      const wasFresh = this.liveIsolate() && this.fresh;
      const started = performance.now();
      const outcome = this.applyInContext(source, chunks, wallMs, listener.onCall);
      const tryWallMs = performance.now() - started;
      totalWallMs += tryWallMs;
      const usage = { tries: attempt, cpuMs: outcome.cpuMs, maxCallCpuMs: outcome.maxCallCpuMs, wallMs: tryWallMs, totalWallMs };
      if (outcome.kind === 'starved') {
        // Nothing of the stopped run is left for the next one to pay for.
        this.dispose();
        if (attempt >= maxTries) {
          return {
            stopped: true,
            limit: 'overloaded',
            message: `the machine was too busy to judge the time limit: ${attempt} tries, the last ${outcome.stop.message} (limit ${timeoutMs} ms of CPU time)`,
            usage,
          };
        }
        const share = Math.max(outcome.stop.cpuMs, 1) / Math.max(outcome.stop.wallMs, 1);
        wallMs = Math.ceil(Math.min(timeoutMs * maxWallFactor, Math.max(2 * wallMs, (headroom * timeoutMs) / share)));
        attempt += 1;
        continue;
      }
      const { result } = outcome;
      if (result.stopped && result.limit === 'memory' && !wasFresh && !memoryRetried) {
        this.dispose();
        memoryRetried = true;
        continue;
      }
      return { ...result, usage };
    }
  }

  /**
   * Runs one call into the isolate with `wallMs` of wall allowance and judges it by the CPU time
   * of this thread: over the limit it is CpuBudgetSpent (finished or not), stopped at the wall
   * allowance under the limit it is Starved; other errors pass through.
   */
  private timed<T>(wallMs: number, spent: Spent, run: (options: { timeout: number }) => T): T {
    spent.calls += 1;
    spent.onCall?.(spent.calls);
    const cpuStart = threadCpuMs();
    const wallStart = performance.now();
    const account = (): number => {
      const cpuMs = threadCpuMs() - cpuStart;
      spent.cpuMs += cpuMs;
      spent.maxCallCpuMs = Math.max(spent.maxCallCpuMs, cpuMs);
      return cpuMs;
    };
    let value: T;
    try {
      value = run({ timeout: wallMs });
    } catch (error) {
      const cpuMs = account();
      if (classify(error).limit !== 'timeout') throw error;
      const elapsed = performance.now() - wallStart;
      throw cpuMs >= this.limits.timeoutMs ? new CpuBudgetSpent(cpuMs, elapsed, this.limits.timeoutMs) : new Starved(cpuMs, elapsed);
    }
    const cpuMs = account();
    if (cpuMs > this.limits.timeoutMs) throw new CpuBudgetSpent(cpuMs, performance.now() - wallStart, this.limits.timeoutMs);
    return value;
  }

  /**
   * Applies `source` (an arrow function, already through the gate) to each chunk of values,
   * given and answered as JSON text (no copy of each value across the boundary). A limit that
   * stops any chunk stops the whole application.
   */
  private applyInContext(source: string, chunks: JsonChunk[], wallMs: number, onCall: RunListener['onCall']): Attempt {
    const isolate = this.liveIsolate();
    this.fresh = false;
    const spent: Spent = { cpuMs: 0, maxCallCpuMs: 0, calls: 0, onCall };
    const done = (result: ChunkResults): Attempt => ({ kind: 'done', result, cpuMs: spent.cpuMs, maxCallCpuMs: spent.maxCallCpuMs });
    let context: ivm.Context | undefined;
    try {
      context = isolate.createContextSync();
      const setup = isolate.compileScriptSync(SETUP);
      const run = this.timed(wallMs, spent, (options) => setup.runSync(context!, { ...options, reference: true })) as ivm.Reference;
      let fn: ivm.Reference;
      try {
        const script = isolate.compileScriptSync(`'use strict';\n(${source}\n)`);
        fn = this.timed(wallMs, spent, (options) => script.runSync(context!, { ...options, reference: true })) as ivm.Reference;
      } catch (error) {
        if (error instanceof Starved || error instanceof CpuBudgetSpent) throw error;
        const classified = classify(error);
        return done({
          stopped: true,
          ...(classified.limit === 'sandbox-error' ? { limit: 'compile-error' as const, message: classified.message } : classified),
        });
      }
      if (fn.typeof !== 'function')
        return done({ stopped: true, limit: 'compile-error', message: `evaluates to ${fn.typeof}, not a function` });
      const results = chunks.map(
        (chunk) =>
          this.timed(wallMs, spent, (options) =>
            run.applySync(
              undefined,
              [fn.derefInto(), chunk.values, chunk.rows, chunk.lookup ?? null, this.limits.maxOutputChars, MAX_CALL_CHARS, TOO_LARGE],
              options,
            ),
          ) as string,
      );
      return done({ stopped: false, results });
    } catch (error) {
      if (error instanceof Starved) return { kind: 'starved', stop: error, cpuMs: spent.cpuMs, maxCallCpuMs: spent.maxCallCpuMs };
      if (error instanceof CpuBudgetSpent) return done({ stopped: true, limit: 'timeout', message: error.message });
      return done({ stopped: true, ...classify(error) });
    } finally {
      try {
        context?.release();
      } catch {
        // The isolate may already be disposed by its memory limit.
      }
    }
  }

  /** Lets go of the isolate (a new one is made for the next function). */
  dispose(): void {
    if (this.isolate && !this.isolate.isDisposed) this.isolate.dispose();
    this.isolate = undefined;
  }
}
