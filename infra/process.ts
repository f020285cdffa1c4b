import { spawn, execFile } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { STACK_STATE_FILE } from './stack-config.ts';

/**
 * Every process the stack starts goes through here: each daemon runs under coreutils
 * `timeout` (so it dies even if nobody stops it), in its own process group, with a pid file,
 * and is stopped by that pid. Short commands get a hard timeout too. Each daemon's spawn spec
 * (command, arguments, environment, folder) is recorded beside its pid file, so that one daemon
 * can be started again as it was (`restart`), within the stack's lifetime.
 */

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What is recorded of a daemon at its first start (STACK_DIR/procs/<name>.json, mode 0600: its environment holds credentials). */
export interface RecordedSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** When the stack's lifetime ends (epoch ms): a restarted daemon's `timeout` gets what is left of it. */
  expires_at: number;
}

/** Written first by `stack down`: while it exists, nothing is started again. */
export const STOPPING_MARKER = 'stopping';

/** How long a restart's lock holds before another restarter may take it (a restarter that died). */
const RESTART_LOCK_STALE_MS = 5 * 60_000;

/** A restart refused because the stack is being stopped. */
export class StackStoppingError extends Error {
  constructor(stackDir: string) {
    super(`the stack in ${stackDir} is being stopped (${STOPPING_MARKER} marker): nothing is started again`);
    this.name = 'StackStoppingError';
  }
}

/** A restart refused because another one of the same daemon is under way. */
export class RestartInProgressError extends Error {
  constructor(name: string) {
    super(`a restart of ${name} is already under way`);
    this.name = 'RestartInProgressError';
  }
}

export interface StartOptions {
  /** Called when the daemon's `timeout` leader exits (only for daemons this process started). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface RestartOptions extends StartOptions {
  /** TERM, then KILL after this long, for what is left of the old process group. */
  graceMs?: number;
  /** Runs after the old process group is gone and before the new one starts. */
  beforeStart?: () => Promise<void>;
}

/** Whether a process (a daemon's `timeout` leader) is alive: signal 0 reaches it. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes a file whole, mode 0600, by rename: a reader never sees half of it. */
function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

export class ProcessTable {
  constructor(
    readonly stackDir: string,
    /** A daemon is killed by `timeout` after this many seconds whatever happens. */
    readonly lifetimeS: number,
  ) {}

  get pidDir(): string {
    return join(this.stackDir, 'pids');
  }

  get logDir(): string {
    return join(this.stackDir, 'logs');
  }

  logFile(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  get specDir(): string {
    return join(this.stackDir, 'procs');
  }

  specFile(name: string): string {
    return join(this.specDir, `${name}.json`);
  }

  get stoppingMarker(): string {
    return join(this.stackDir, STOPPING_MARKER);
  }

  /** Whether `stack down` has begun (its marker exists). */
  stopping(): boolean {
    return existsSync(this.stoppingMarker);
  }

  start(spec: DaemonSpec, options: StartOptions = {}): number {
    const recorded: RecordedSpec = {
      name: spec.name,
      command: spec.command,
      args: spec.args,
      env: Object.fromEntries(Object.entries(spec.env ?? process.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      expires_at: Date.now() + this.lifetimeS * 1000,
    };
    mkdirSync(this.specDir, { recursive: true, mode: 0o700 });
    writePrivate(this.specFile(spec.name), `${JSON.stringify(recorded)}\n`);
    // The order prefix lets `stopAll` stop daemons in reverse start order.
    const order = String(process.hrtime.bigint()).padStart(20, '0');
    // A fresh log per start: lines of an earlier stack must not be read as this one's.
    return this.spawnRecorded(recorded, order, this.lifetimeS, 'w', options);
  }

  private spawnRecorded(spec: RecordedSpec, order: string, lifetimeS: number, logMode: 'w' | 'a', options: StartOptions): number {
    mkdirSync(this.pidDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
    const out = openSync(this.logFile(spec.name), logMode);
    const child = spawn('timeout', ['--kill-after=10', String(lifetimeS), spec.command, ...spec.args], {
      detached: true,
      stdio: ['ignore', out, out],
      env: spec.env,
      cwd: spec.cwd,
    });
    closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    const { onExit } = options;
    if (onExit) child.once('exit', (code, signal) => onExit(code, signal));
    child.once('error', () => {});
    child.unref();
    writeFileSync(join(this.pidDir, `${order}-${spec.name}.pid`), String(child.pid));
    return child.pid;
  }

  /** The recorded spawn spec of a daemon, or undefined when none was recorded. */
  readSpec(name: string): RecordedSpec | undefined {
    try {
      return JSON.parse(readFileSync(this.specFile(name), 'utf8')) as RecordedSpec;
    } catch {
      return undefined;
    }
  }

  /** The daemons whose spawn spec is recorded. */
  recorded(): string[] {
    try {
      return readdirSync(this.specDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .sort();
    } catch {
      return [];
    }
  }

  /** The pid file of a daemon, if it has one. */
  entry(name: string): { name: string; pid: number; file: string } | undefined {
    return this.running().find((e) => e.name === name);
  }

  lockFile(name: string): string {
    return join(this.specDir, `${name}.restarting`);
  }

  /** Whether a restart of the daemon is under way (its lock exists and is not stale). */
  restarting(name: string): boolean {
    try {
      return Date.now() - statSync(this.lockFile(name)).mtimeMs < RESTART_LOCK_STALE_MS;
    } catch {
      return false;
    }
  }

  /**
   * Starts a daemon again with its recorded spec: stops what is left of its process group (by
   * pid), starts the same command with the same environment and folder under `timeout` for what
   * is left of the stack's lifetime, appends to its log, and records the new pid in its pid file
   * (same start order) and in the state file. Refused while `stack down` runs, and while another
   * restart of the same daemon is under way.
   */
  async restart(name: string, options: RestartOptions = {}): Promise<number> {
    const spec = this.readSpec(name);
    if (!spec) throw new Error(`no spawn spec is recorded for ${name} in ${this.specDir}`);
    if (this.stopping()) throw new StackStoppingError(this.stackDir);
    const lock = this.lockFile(name);
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch {
      if (this.restarting(name)) throw new RestartInProgressError(name);
      writeFileSync(lock, String(process.pid)); // a stale lock: its restarter is gone
    }
    try {
      const old = this.entry(name);
      if (old) await stopGroup(old.pid, options.graceMs ?? 10_000);
      await options.beforeStart?.();
      const lifetimeS = Math.ceil((spec.expires_at - Date.now()) / 1000);
      if (lifetimeS < 1)
        throw new Error(`the stack's lifetime is over (${new Date(spec.expires_at).toISOString()}): not restarting ${name}`);
      // Checked again just before the spawn, in the same tick: a `stack down` that began meanwhile
      // either sees the new pid file or stops this restart here.
      if (this.stopping()) throw new StackStoppingError(this.stackDir);
      const order = old ? old.file.slice(this.pidDir.length + 1).replace(/-.*$/, '') : String(process.hrtime.bigint()).padStart(20, '0');
      const pid = this.spawnRecorded(spec, order, lifetimeS, 'a', options);
      this.syncStatePids();
      return pid;
    } finally {
      rmSync(lock, { force: true });
    }
  }

  /** Rewrites the state file's `pids` (STACK_DIR/stack.json, when there is one) from the pid files. */
  syncStatePids(): void {
    const file = join(this.stackDir, STACK_STATE_FILE);
    let state: Record<string, unknown>;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    state['pids'] = this.running().map(({ name, pid }) => ({ name, pid }));
    writePrivate(file, `${JSON.stringify(state, null, 2)}\n`);
  }

  /** Pid files, most recently started first. */
  running(): Array<{ name: string; pid: number; file: string }> {
    let files: string[];
    try {
      files = readdirSync(this.pidDir).filter((f) => f.endsWith('.pid'));
    } catch {
      return [];
    }
    return files
      .sort()
      .reverse()
      .map((f) => ({
        name: f.replace(/^\d+-/, '').replace(/\.pid$/, ''),
        pid: Number(readFileSync(join(this.pidDir, f), 'utf8').trim()),
        file: join(this.pidDir, f),
      }));
  }

  /** Stops each daemon's whole process group (those named in `first` before the others): TERM, then KILL after `graceMs`. */
  async stopAll(graceMs = 10_000, first: string[] = []): Promise<string[]> {
    const stopped: string[] = [];
    const entries = this.running();
    const ordered = [...entries.filter((e) => first.includes(e.name)), ...entries.filter((e) => !first.includes(e.name))];
    for (const entry of ordered) {
      await stopGroup(entry.pid, graceMs);
      rmSync(entry.file, { force: true });
      stopped.push(entry.name);
    }
    // A daemon started meanwhile (a restart that was already past its last check) is stopped too.
    for (const entry of this.running()) {
      await stopGroup(entry.pid, graceMs);
      rmSync(entry.file, { force: true });
      if (!stopped.includes(entry.name)) stopped.push(entry.name);
    }
    return stopped;
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopGroup(pid: number, graceMs: number): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* raced with exit */
    }
    const killed = Date.now() + 5_000;
    while (groupAlive(pid) && Date.now() < killed) await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a short command with a hard timeout; rejects with its output on failure. */
export function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          const why = error.killed ? `timed out after ${timeoutMs} ms` : `exit ${String(error.code)}`;
          reject(new Error(`${command} ${args.join(' ')}: ${why}\n${stderr || stdout}`.trim()));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

/** Polls `probe` until it returns true; fails with a message naming `what` after `timeoutMs`. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, hint = ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    await sleep(250);
  }
  const cause = last instanceof Error ? ` (last error: ${last.message})` : '';
  throw new Error(`${what} was not ready after ${Math.round(timeoutMs / 1000)} s${cause}${hint ? `; ${hint}` : ''}`);
}

/** Fails with a message naming the variable when something already listens on a port the stack needs. */
export async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  const { createConnection } = await import('node:net');
  const busy: string[] = [];
  await Promise.all(
    Object.entries(ports).map(
      ([name, port]) =>
        new Promise<void>((resolve) => {
          const socket = createConnection({ host: '127.0.0.1', port });
          socket.once('connect', () => {
            busy.push(`${name}=${port}`);
            socket.destroy();
            resolve();
          });
          socket.once('error', () => resolve());
          socket.setTimeout(1000, () => {
            socket.destroy();
            resolve();
          });
        }),
    ),
  );
  if (busy.length) throw new Error(`ports already in use: ${busy.join(', ')} (stop what uses them or set these variables)`);
}
