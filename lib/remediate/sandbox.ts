import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SANDBOX_LIMITS, type AppliedValues, type ApplyResult, type ChunkResults, type Output, type SandboxLimits } from './isolate-runner.ts';

export type { ApplyResult, Output, SandboxLimit, SandboxLimits, Scalar } from './isolate-runner.ts';

/**
 * The sandbox: where every transformation function runs. Two walls: a V8 isolate with time
 * and memory limits (isolate-runner.ts), inside a child process of its own, so that a function
 * that makes V8 abort (some single huge allocations do, past any isolate limit) kills only that
 * process; it is then reported as the `crashed` limit and a new process serves the next call.
 * A watchdog kills the child by pid if an answer is overdue.
 */
const CHILD = fileURLToPath(new URL(`./sandbox-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
/** Old-space cap of the sandbox process (MB): an abort there cannot take the host's memory with it. */
const CHILD_HEAP_MB = 512;
const WATCHDOG_SLACK_MS = 3_000;
/** Values per call into the isolate: one call for a typical cluster, bounded memory for a large one. */
const CHUNK = 100_000;

interface Pending {
  child: ChildProcess;
  resolve: (result: ChunkResults) => void;
  watchdog: NodeJS.Timeout;
}

export class Sandbox {
  readonly limits: SandboxLimits;
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private sequence = 0;

  constructor(limits: Partial<SandboxLimits> = {}) {
    this.limits = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
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
    child.on('message', (message: { id: number; result: ChunkResults }) => this.settle(message.id, message.result));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      for (const [id, pending] of [...this.pending.entries()]) {
        if (pending.child === child) this.settle(id, { stopped: true, limit: 'crashed', message: `the sandbox process ended (${signal ?? `exit ${code}`})` });
      }
    });
    child.on('error', () => child.kill('SIGKILL'));
    this.child = child;
    return child;
  }

  private settle(id: number, result: ChunkResults): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    clearTimeout(pending.watchdog);
    this.pending.delete(id);
    // An idle sandbox process must not keep the function (or a CLI) alive.
    if (this.pending.size === 0) {
      this.child?.unref();
      (this.child?.channel as { unref?: () => void } | null | undefined)?.unref?.();
    }
    pending.resolve(result);
  }

  /**
   * Applies `source` (an arrow function, already through the gate) to every value; with `rows`,
   * each call also gets its row. A limit that stops any chunk stops the whole application.
   */
  async apply(source: string, values: (string | null)[], rows?: Record<string, string | null>[]): Promise<ApplyResult> {
    const chunks = [];
    for (let start = 0; start < values.length || start === 0; start += CHUNK) {
      chunks.push({ values: JSON.stringify(values.slice(start, start + CHUNK)), rows: rows ? JSON.stringify(rows.slice(start, start + CHUNK)) : null });
    }
    const answer = await this.call(source, chunks);
    if (answer.stopped) return answer;
    const outputs: Output[] = [];
    const errors: [number, string][] = [];
    for (const [i, text] of answer.results.entries()) {
      const part = JSON.parse(text) as AppliedValues;
      const expected = Math.min(CHUNK, values.length - i * CHUNK);
      if (!Array.isArray(part.outputs) || part.outputs.length !== expected || !Array.isArray(part.errors)) {
        return { stopped: true, limit: 'sandbox-error', message: 'the sandbox returned a malformed result' };
      }
      for (const output of part.outputs) outputs.push(output);
      for (const [index, name] of part.errors) errors.push([index + i * CHUNK, String(name)]);
    }
    return { stopped: false, outputs, errors };
  }

  private call(source: string, chunks: { values: string; rows: string | null }[]): Promise<ChunkResults> {
    const child = this.liveChild();
    child.ref();
    (child.channel as { ref?: () => void } | null | undefined)?.ref?.();
    const id = ++this.sequence;
    return new Promise((resolve) => {
      const watchdog = setTimeout(() => {
        this.settle(id, { stopped: true, limit: 'timeout', message: 'the sandbox process did not answer in time' });
        if (this.child === child) this.child = undefined;
        child.kill('SIGKILL');
      }, (chunks.length + 1) * this.limits.timeoutMs + WATCHDOG_SLACK_MS);
      this.pending.set(id, { child, resolve, watchdog });
      child.send({ id, source, chunks });
    });
  }

  dispose(): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      if (child.connected) child.disconnect();
      child.kill('SIGKILL');
    }
  }
}
