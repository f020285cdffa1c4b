/**
 * What the sandbox's two sides share — the host (sandbox.ts, in a function's process) and the
 * sandbox process (sandbox-process.ts, isolate-runner.ts): the limits, the load policy, the
 * results and the messages between them. No isolated-vm here: a function's own process imports
 * this module and never loads the isolate's addon (only the sandbox process does).
 */
/** A plain value a function may return (or a column of a row-level function's object). */
export type Scalar = string | number | boolean | null;
/** One output: a plain value, or the columns a row-level function writes. */
export type Output = Scalar | Record<string, Scalar>;

/**
 * Why an application stopped. `timeout`: a call used more CPU time than its limit (the function's
 * own doing, whatever the load). `overloaded`: the machine was too busy to tell — a call was
 * stopped at its longest wall allowance before it had used its CPU budget, or the sandbox process
 * did not answer and had not used its CPU; not a verdict on the function (re-drive, do not decide).
 * `crashed`: the sandbox process ended (some allocations abort V8 itself).
 */
export type SandboxLimit = 'timeout' | 'memory' | 'output-too-large' | 'compile-error' | 'sandbox-error' | 'crashed' | 'overloaded';

/** What the function made of one chunk's values. */
export interface AppliedValues {
  /** One output per input; null where the function failed on that value (see errors). */
  outputs: Output[];
  /** Inputs on which the function threw or returned something unusable: [index, error name]. */
  errors: [number, string][];
}

/** An application a limit stopped, with the limit and a message for people. */
export type Stopped = { stopped: true; limit: SandboxLimit; message: string };
/** The answer for a whole application: the outputs, or the limit that stopped it. */
export type ApplyResult = ({ stopped: false } & AppliedValues) | Stopped;

/** Values (and rows, and an evidence function's lookup table, or null) of one call into the isolate, as JSON text. */
export interface JsonChunk {
  values: string;
  rows: string | null;
  /** A lookup table (`{key: value}`, strings only), handed to the function as its third argument. */
  lookup?: string | null;
}

/** What an application cost (for the record and for tests; not part of the verdict's output). */
export interface SandboxUsage {
  /** Tries it took: more than one when a busy machine stopped a try before the function used its CPU budget. */
  tries: number;
  /** CPU time of the isolate's thread over the last try's calls (setup, compile, chunks), in ms. */
  cpuMs: number;
  /** The largest CPU time of one call in the last try, in ms: what the limit is compared with. */
  maxCallCpuMs: number;
  /** Wall time of the last try, in ms. */
  wallMs: number;
  /** Wall time over all tries, in ms. */
  totalWallMs: number;
}

/** The runner's answer per chunk: JSON text of AppliedValues, indices relative to the chunk. */
export type ChunkResults = ({ stopped: false; results: string[] } | Stopped) & { usage?: SandboxUsage };

/** Sent to the parent as each try starts, so that its watchdog knows how long each call may take. */
export interface TryStart {
  attempt: number;
  /** The wall allowance of each call into the isolate in this try, in ms. */
  wallMs: number;
  /** How many calls into the isolate the try makes (setup, compile, one per chunk). */
  calls: number;
}

/**
 * What the sandbox process tells its parent about request `id`: a try starting, a call into the
 * isolate starting (the n-th of its try), or the answer.
 */
export type SandboxMessage = { id: number; progress: TryStart } | { id: number; call: number } | { id: number; result: ChunkResults };

/** Hears of each try and each call into the isolate before it starts (the parent's watchdog is based on them). */
export interface RunListener {
  onTry?: (start: TryStart) => void;
  /** Called synchronously before the call blocks the thread: a small IPC message sent here goes out at once. */
  onCall?: (call: number) => void;
}

/** Limits of the sandbox. */
export interface SandboxLimits {
  memoryMb: number;
  /** CPU time one call into the isolate (one chunk of values) may use, in ms. */
  timeoutMs: number;
  /** Longest string one output may be. */
  maxOutputChars: number;
}

/** The limits when none are given (SANDBOX_TIMEOUT_MS and SANDBOX_MEMORY_MB set them in a deployment). */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { memoryMb: 64, timeoutMs: 2_000, maxOutputChars: 4_096 };

/**
 * How wall time is spent to judge a CPU-time limit. The first try gives each call
 * `firstWallFactor` x the limit of wall time (on an idle machine an endless loop has then used
 * more than its CPU budget and is stopped at once). A call stopped at its wall allowance with less
 * CPU time than the limit is tried again on a fresh isolate, with a wall allowance from the CPU
 * share the stopped try got (enough for `headroom` x the limit of CPU), at least double the last
 * and at most `maxWallFactor` x the limit; after `maxTries` such stops the answer is `overloaded`.
 */
export const LOAD_POLICY = { firstWallFactor: 1.25, headroom: 1.2, maxWallFactor: 10, maxTries: 3 } as const;

/** The longest wall time one application of `calls` calls may take in the isolate under LOAD_POLICY (ms). */
export function wallBoundMs(limits: Pick<SandboxLimits, 'timeoutMs'>, calls: number): number {
  const { firstWallFactor, maxWallFactor, maxTries } = LOAD_POLICY;
  return Math.ceil(calls * limits.timeoutMs * (firstWallFactor + (maxTries - 1) * maxWallFactor));
}
