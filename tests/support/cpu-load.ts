import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * CPU load for tests: busy-loop processes (`node -e`, at the default niceness 0) that compete
 * with the code under test for the CPU. Each one ends by itself after `maxMs`, or as soon as it
 * sees that its parent is gone (it checks `process.ppid`), so a test runner that dies cannot
 * leave it spinning; the parent also kills it by pid on `stop()` and after `maxMs` + 5 s.
 */
export interface CpuLoad {
  /** The busy processes' pids. */
  readonly pids: number[];
  /** Kills every busy process by pid (SIGKILL) and waits until each has exited. */
  stop(): Promise<void>;
}

/** Options of startCpuLoad. */
export interface CpuLoadOptions {
  /** How many busy processes. */
  processes: number;
  /** The longest each may run, whatever happens (ms). */
  maxMs: number;
}

const busyLoop = (maxMs: number): string => `
const end = Date.now() + ${Math.ceil(maxMs)};
const parent = process.ppid;
let x = 0;
for (;;) {
  for (let i = 0; i < 1e6; i++) x = (x + i) | 0;
  if (Date.now() > end || process.ppid !== parent) process.exit(0);
}`;

/** Starts `processes` busy loops and resolves once all of them run (and have had a moment to take the CPU). */
export async function startCpuLoad({ processes, maxMs }: CpuLoadOptions): Promise<CpuLoad> {
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    const exits = children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => once(c, 'exit'));
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  };
  try {
    for (let i = 0; i < processes; i++) {
      const child = spawn(process.execPath, ['-e', busyLoop(maxMs)], { stdio: 'ignore', timeout: maxMs + 5_000, killSignal: 'SIGKILL' });
      children.push(child);
      await once(child, 'spawn');
    }
    // Node's start-up first: then they are spinning.
    await new Promise((resolve) => setTimeout(resolve, 300));
  } catch (error) {
    await stop();
    throw error;
  }
  return { pids: children.map((c) => c.pid!), stop };
}
