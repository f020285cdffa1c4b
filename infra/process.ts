import { spawn, execFile } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every process the stack starts goes through here: each daemon runs under coreutils
 * `timeout` (so it dies even if nobody stops it), in its own process group, with a pid file,
 * and is stopped by that pid. Short commands get a hard timeout too.
 */

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
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

  start(spec: DaemonSpec): number {
    mkdirSync(this.pidDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
    // A fresh log per start: lines of an earlier stack must not be read as this one's.
    const out = openSync(this.logFile(spec.name), 'w');
    const child = spawn('timeout', ['--kill-after=10', String(this.lifetimeS), spec.command, ...spec.args], {
      detached: true,
      stdio: ['ignore', out, out],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    child.unref();
    // The order prefix lets `stopAll` stop daemons in reverse start order.
    const order = String(process.hrtime.bigint()).padStart(20, '0');
    writeFileSync(join(this.pidDir, `${order}-${spec.name}.pid`), String(child.pid));
    return child.pid;
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

  /** Stops each daemon's whole process group: TERM, then KILL after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<string[]> {
    const stopped: string[] = [];
    for (const entry of this.running()) {
      await stopGroup(entry.pid, graceMs);
      rmSync(entry.file, { force: true });
      stopped.push(entry.name);
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
