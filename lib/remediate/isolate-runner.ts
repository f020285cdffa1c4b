import ivm from 'isolated-vm';

/**
 * The isolate runner: a transformation function runs only here, in a separate V8 isolate (no Node
 * APIs at all: no process, require, timers or network) with a memory limit and a time limit
 * per call. Every function gets a fresh context, prepared so that it cannot learn the time or
 * draw real randomness, and with its built-ins frozen; WebAssembly is removed because its
 * memory is not counted against the isolate's limit. A whole cluster is applied in one call
 * (one chunk of values), so the cost of crossing into the isolate is paid once, not per value.
 *
 * It runs in the sandbox process (sandbox.ts), never in a function's own process: some huge
 * allocations are fatal V8 errors that abort the whole process, and no isolate limit catches
 * them. That process needs `--no-node-snapshot` (isolated-vm's requirement on Node 20+).
 */
export type Scalar = string | number | boolean | null;
export type Output = Scalar | Record<string, Scalar>;

export type SandboxLimit = 'timeout' | 'memory' | 'output-too-large' | 'compile-error' | 'sandbox-error' | 'crashed';

export interface AppliedValues {
  /** One output per input; null where the function failed on that value (see errors). */
  outputs: Output[];
  /** Inputs on which the function threw or returned something unusable: [index, error name]. */
  errors: [number, string][];
}

export type Stopped = { stopped: true; limit: SandboxLimit; message: string };
export type ApplyResult = ({ stopped: false } & AppliedValues) | Stopped;

/** Values (and rows, or null) of one call into the isolate, as JSON text. */
export interface JsonChunk {
  values: string;
  rows: string | null;
}
/** The runner's answer per chunk: JSON text of AppliedValues, indices relative to the chunk. */
export type ChunkResults = { stopped: false; results: string[] } | Stopped;

export interface SandboxLimits {
  memoryMb: number;
  /** Per call into the isolate (one chunk of values). */
  timeoutMs: number;
  /** Longest string one output may be. */
  maxOutputChars: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { memoryMb: 64, timeoutMs: 2_000, maxOutputChars: 4_096 };
/** Characters all outputs of one call may add up to; beyond it the call stops as output-too-large. */
const MAX_CALL_CHARS = 8_000_000;
const TOO_LARGE = 'vaultmend:output-too-large';

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
  return function run(fn, valuesJson, rowsJson, maxChars, maxCallChars, tooLarge) {
    seed = 0x2545f491;
    const values = JSON.parse(valuesJson);
    const rows = rowsJson === null ? null : JSON.parse(rowsJson);
    const outputs = new Array(values.length);
    const errors = [];
    let chars = 0;
    for (let i = 0; i < values.length; i++) {
      let result;
      try {
        result = fn(values[i], rows === null ? undefined : Object.freeze(rows[i]));
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
   * Applies `source` to each chunk (see applyInContext). A memory stop on an isolate that ran
   * other functions before is tried once more on a new one: only a stop there is the function's.
   */
  applyChunks(source: string, chunks: JsonChunk[]): ChunkResults {
    const wasFresh = this.liveIsolate() && this.fresh;
    const result = this.applyInContext(source, chunks);
    if (result.stopped && result.limit === 'memory' && !wasFresh) {
      this.dispose();
      return this.applyInContext(source, chunks);
    }
    return result;
  }

  /**
   * Applies `source` (an arrow function, already through the gate) to each chunk of values,
   * given and answered as JSON text (no copy of each value across the boundary). A limit that
   * stops any chunk stops the whole application.
   */
  private applyInContext(source: string, chunks: JsonChunk[]): ChunkResults {
    const isolate = this.liveIsolate();
    this.fresh = false;
    let context: ivm.Context | undefined;
    try {
      context = isolate.createContextSync();
      const run = isolate.compileScriptSync(SETUP).runSync(context, { reference: true, timeout: this.limits.timeoutMs }) as ivm.Reference;
      let fn: ivm.Reference;
      try {
        fn = isolate.compileScriptSync(`'use strict';\n(${source}\n)`).runSync(context, { reference: true, timeout: this.limits.timeoutMs }) as ivm.Reference;
      } catch (error) {
        const classified = classify(error);
        return { stopped: true, ...(classified.limit === 'sandbox-error' ? { limit: 'compile-error' as const, message: classified.message } : classified) };
      }
      if (fn.typeof !== 'function') return { stopped: true, limit: 'compile-error', message: `evaluates to ${fn.typeof}, not a function` };
      const results = chunks.map(
        (chunk) =>
          run.applySync(undefined, [fn.derefInto(), chunk.values, chunk.rows, this.limits.maxOutputChars, MAX_CALL_CHARS, TOO_LARGE], {
            timeout: this.limits.timeoutMs,
          }) as string,
      );
      return { stopped: false, results };
    } catch (error) {
      return { stopped: true, ...classify(error) };
    } finally {
      try {
        context?.release();
      } catch {
        // The isolate may already be disposed by its memory limit.
      }
    }
  }

  dispose(): void {
    if (this.isolate && !this.isolate.isDisposed) this.isolate.dispose();
    this.isolate = undefined;
  }
}
