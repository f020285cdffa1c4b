import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_SANDBOX_LIMITS,
  type AppliedValues,
  type ApplyResult,
  type ChunkResults,
  type JsonChunk,
  type Output,
  type SandboxLimits,
  type SandboxMessage,
  type SandboxUsage,
  type TryStart,
} from './sandbox-protocol.ts';

export type { ApplyResult, Output, SandboxLimit, SandboxLimits, SandboxUsage, Scalar } from './sandbox-protocol.ts';
export { LOAD_POLICY, wallBoundMs } from './sandbox-protocol.ts';

/**
 * The sandbox: where every transformation function runs. Two walls: a V8 isolate with time
 * and memory limits (isolate-runner.ts), inside a child process of its own, so that a function
 * that makes V8 abort (some single huge allocations do, past any isolate limit) kills only that
 * process; it is then reported as the `crashed` limit and a new process serves the next call.
 *
 * The time limit is CPU time (isolate-runner.ts), so a busy machine gives the same verdict as an
 * idle one, only later. A watchdog kills the child by pid if it falls silent for longer than the
 * call into the isolate it announced may take (its wall allowance and a slack); it judges the child by the CPU time the child got meanwhile: a child
 * that had its CPU and still did not answer is the function's `timeout`, one that did not get it
 * is `overloaded` (the machine, not the function: the caller re-drives instead of deciding).
 */
const CHILD = fileURLToPath(new URL(`./sandbox-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
/** Old-space cap of the sandbox process (MB): an abort there cannot take the host's memory with it. */
const CHILD_HEAP_MB = 512;
/** Silence allowed beyond a call's own wall allowance (stopping it, IPC, JSON, the runner's bookkeeping). */
const WATCHDOG_SLACK_MS = 3_000;
/** Silence allowed before a request's first try: the process starting (through tsx from sources) and reading the request. */
const STARTUP_MS = 30_000;
/** Times a request that had not started when its process died (under another request) is sent to a new process. */
const MAX_RESENDS = 1;
/** Values per call into the isolate: one call for a typical cluster, bounded memory for a large one. */
const CHUNK = 100_000;
/** Linux reports process times in clock ticks of 1/100 s (USER_HZ). */
const MS_PER_TICK = 10;

/**
 * CPU time (user + system) the process `pid` has used, in ms, from /proc; undefined where it
 * cannot be read (not Linux, or the process is gone).
 */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * MS_PER_TICK : undefined;
  } catch {
    return undefined;
  }
}

interface Request {
  id: number;
  source: string;
  chunks: JsonChunk[];
}

interface Pending {
  request: Request;
  child: ChildProcess;
  resolve: (result: ChunkResults) => void;
  resends: number;
}

/** What the watchdog knows of one sandbox process. */
interface Watch {
  timer: NodeJS.Timeout | undefined;
  /**
   * The request whose try runs now, as the child announced it, and its current call into the
   * isolate (its number and the child's CPU time when it started).
   */
  running: { id: number; start: TryStart; call: number; cpuMs: number | undefined; since: number } | undefined;
}

/** Runs transformation functions in the isolate of a child process; see the module comment. */
export class Sandbox {
  readonly limits: SandboxLimits;
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly watches = new WeakMap<ChildProcess, Watch>();
  private sequence = 0;

  constructor(limits: Partial<SandboxLimits> = {}) {
    this.limits = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
  }

  /**
   * Starts the sandbox process now rather than at the first function applied: in a function's
   * init (Lambda's init phase), so a cold invocation does not wait for it. Idempotent.
   *
   * @example
   * const sandbox = new Sandbox(limits);
   * sandbox.prestart();
   */
  prestart(): void {
    this.liveChild();
  }

  private liveChild(): ChildProcess {
    const current = this.child;
    if (current && !current.killed && current.exitCode === null && current.signalCode === null && current.connected) return current;
    // Started through tsx when running from TypeScript sources (tests, the CLI, serverless-offline).
    const loader = CHILD.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
    const child = fork(CHILD, [], {
      execArgv: [...loader, '--no-node-snapshot', `--max-old-space-size=${CHILD_HEAP_MB}`],
      env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', VAULTMEND_SANDBOX_LIMITS: JSON.stringify(this.limits) },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    this.watches.set(child, { timer: undefined, running: undefined });
    child.on('message', (message: SandboxMessage) => {
      if ('progress' in message) this.tryStarted(child, message.id, message.progress);
      else if ('call' in message) this.callStarted(child, message.id, message.call);
      else this.settle(message.id, message.result);
    });
    child.on('exit', (code, signal) => this.childEnded(child, `the sandbox process ended (${signal ?? `exit ${code}`})`));
    child.on('error', () => child.kill('SIGKILL'));
    this.child = child;
    return child;
  }

  /** Requests of `child` still waiting for an answer, oldest first (the order the child serves them). */
  private pendingOf(child: ChildProcess): Pending[] {
    return [...this.pending.values()].filter((p) => p.child === child);
  }

  /** (Re)arms the watchdog of `child`: it must say something within `ms`, or it is judged overdue. */
  private arm(child: ChildProcess, ms: number): void {
    const watch = this.watches.get(child);
    if (!watch) return;
    clearTimeout(watch.timer);
    watch.timer = setTimeout(() => this.overdue(child), ms);
    // A request in flight keeps the process alive through the child's channel, not through this timer.
    watch.timer.unref();
  }

  /** A try starts: until its first call, the child may take the slack (it is only preparing the isolate). */
  private tryStarted(child: ChildProcess, id: number, start: TryStart): void {
    const watch = this.watches.get(child);
    if (!watch || !this.pending.has(id)) return;
    watch.running = { id, start, call: 0, cpuMs: processCpuMs(child.pid), since: performance.now() };
    this.arm(child, WATCHDOG_SLACK_MS);
  }

  /** A call into the isolate starts: it may take its wall allowance, and the slack to report back. */
  private callStarted(child: ChildProcess, id: number, call: number): void {
    const watch = this.watches.get(child);
    if (watch?.running?.id !== id) return;
    watch.running = { ...watch.running, call, cpuMs: processCpuMs(child.pid), since: performance.now() };
    this.arm(child, watch.running.start.wallMs + WATCHDOG_SLACK_MS);
  }

  /**
   * The child fell silent for longer than it said it might. The running request is judged by the
   * CPU time the child used since its current call (or try) started: at least the call's CPU
   * budget -> `timeout` (it had the CPU and no isolate limit stopped it: a huge allocation, for
   * one); less, or unknown -> `overloaded`. A child that never started a try is `overloaded` for
   * every request it held. The child is killed by pid; requests queued behind the judged one go
   * to a new one.
   */
  private overdue(child: ChildProcess): void {
    const watch = this.watches.get(child);
    const running = watch?.running;
    if (running && this.pending.has(running.id)) {
      const now = processCpuMs(child.pid);
      const used = now !== undefined && running.cpuMs !== undefined ? now - running.cpuMs : undefined;
      const budget = this.limits.timeoutMs;
      const silent = Math.round(performance.now() - running.since);
      this.settle(
        running.id,
        used !== undefined && used >= budget
          ? {
              stopped: true,
              limit: 'timeout',
              message: `the sandbox process used ${used} ms of CPU time in ${silent} ms without answering (limit ${budget} ms)`,
            }
          : {
              stopped: true,
              limit: 'overloaded',
              message: `the sandbox process did not answer in ${silent} ms and had ${used ?? 'an unknown amount of'} ms of CPU time meanwhile: the machine was too busy to judge the function`,
            },
      );
    } else {
      for (const p of this.pendingOf(child)) {
        this.settle(p.request.id, {
          stopped: true,
          limit: 'overloaded',
          message: `the sandbox process did not start a try within ${STARTUP_MS} ms`,
        });
      }
    }
    if (this.child === child) this.child = undefined;
    child.kill('SIGKILL');
  }

  /** The child is gone: a request it was running is `crashed`; requests still queued are sent to a new process. */
  private childEnded(child: ChildProcess, why: string): void {
    if (this.child === child) this.child = undefined;
    const watch = this.watches.get(child);
    if (watch) clearTimeout(watch.timer);
    for (const p of this.pendingOf(child)) {
      const started = watch?.running?.id === p.request.id;
      this.pending.delete(p.request.id);
      if (!started && p.resends < MAX_RESENDS) this.dispatch(p.request, p.resolve, p.resends + 1);
      else p.resolve({ stopped: true, limit: 'crashed', message: why });
    }
  }

  private settle(id: number, result: ChunkResults): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    const watch = this.watches.get(pending.child);
    if (watch?.running?.id === id) watch.running = undefined;
    if (watch) clearTimeout(watch.timer);
    // The next request queued in this child starts now: it gets the startup allowance again.
    if (this.pendingOf(pending.child).length > 0) this.arm(pending.child, STARTUP_MS);
    // An idle sandbox process must not keep the function (or a CLI) alive.
    if (this.pending.size === 0) {
      this.child?.unref();
      (this.child?.channel as { unref?: () => void } | null | undefined)?.unref?.();
    }
    pending.resolve(result);
  }

  /**
   * Applies `source` (an arrow function, already through the gate) to every value; with `rows`,
   * each call also gets its row, and with `lookup` (an evidence function's table) that table,
   * frozen and without a prototype, as its third argument. A limit that stops any chunk stops the
   * whole application.
   */
  async apply(
    source: string,
    values: (string | null)[],
    rows?: Record<string, string | null>[],
    lookup?: Record<string, string>,
  ): Promise<ApplyResult> {
    return (await this.applyMeasured(source, values, rows, lookup)).result;
  }

  /**
   * As `apply`, with what the application cost in the isolate (CPU and wall time, tries; absent
   * when the sandbox process was killed or ended before it answered).
   */
  async applyMeasured(
    source: string,
    values: (string | null)[],
    rows?: Record<string, string | null>[],
    lookup?: Record<string, string>,
  ): Promise<{ result: ApplyResult; usage?: SandboxUsage }> {
    const chunks: JsonChunk[] = [];
    const table = lookup ? JSON.stringify(lookup) : null;
    for (let start = 0; start < values.length || start === 0; start += CHUNK) {
      chunks.push({
        values: JSON.stringify(values.slice(start, start + CHUNK)),
        rows: rows ? JSON.stringify(rows.slice(start, start + CHUNK)) : null,
        lookup: table,
      });
    }
    const { usage, ...answer } = await this.call(source, chunks);
    const measured = <T extends ApplyResult>(result: T) => (usage ? { result, usage } : { result });
    if (answer.stopped) return measured(answer);
    const outputs: Output[] = [];
    const errors: [number, string][] = [];
    for (const [i, text] of answer.results.entries()) {
      const part = JSON.parse(text) as AppliedValues;
      const expected = Math.min(CHUNK, values.length - i * CHUNK);
      if (!Array.isArray(part.outputs) || part.outputs.length !== expected || !Array.isArray(part.errors)) {
        return measured({ stopped: true, limit: 'sandbox-error', message: 'the sandbox returned a malformed result' });
      }
      for (const output of part.outputs) outputs.push(output);
      for (const [index, name] of part.errors) errors.push([index + i * CHUNK, String(name)]);
    }
    return measured({ stopped: false, outputs, errors });
  }

  private call(source: string, chunks: JsonChunk[]): Promise<ChunkResults> {
    const request = { id: ++this.sequence, source, chunks };
    return new Promise((resolve) => this.dispatch(request, resolve, 0));
  }

  private dispatch(request: Request, resolve: (result: ChunkResults) => void, resends: number): void {
    const child = this.liveChild();
    child.ref();
    (child.channel as { ref?: () => void } | null | undefined)?.ref?.();
    const waiting = this.pendingOf(child).length > 0;
    this.pending.set(request.id, { request, child, resolve, resends });
    // Behind another request, the running one's watchdog covers the child until it answers.
    if (!waiting) this.arm(child, STARTUP_MS);
    child.send(request);
  }

  /** Kills the sandbox process by pid; requests still waiting are answered as `crashed`. */
  dispose(): void {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    const watch = this.watches.get(child);
    if (watch) clearTimeout(watch.timer);
    for (const p of this.pendingOf(child)) {
      this.pending.delete(p.request.id);
      p.resolve({ stopped: true, limit: 'crashed', message: 'the sandbox was disposed' });
    }
    if (child.exitCode === null) {
      if (child.connected) child.disconnect();
      child.kill('SIGKILL');
    }
  }
}
