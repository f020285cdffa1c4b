import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pidAlive, ProcessTable, sleep, StackStoppingError } from '../../infra/process.ts';
import { backoffMs, Supervisor, type SupervisorOptions } from '../../infra/supervisor.ts';

/**
 * The supervisor's logic on dummy daemons (`sleep 30`, each under the ProcessTable's `timeout`
 * of 60 s) in a temporary STACK_DIR: a killed daemon is started again with its recorded spec, its
 * pid file and the state file follow, the cap gives up, the backoff waits, the `stopping` marker
 * of `stack down` stops everything from being started again.
 */

let stackDir: string;
let processes: ProcessTable;
/** Every leader pid a test saw, killed by pid (its whole group) after the test. */
const seen = new Set<number>();

beforeEach(() => {
  stackDir = mkdtempSync(join(tmpdir(), 'vaultmend-supervisor-'));
  processes = new ProcessTable(stackDir, 60);
});

afterEach(async () => {
  for (const entry of processes.running()) seen.add(entry.pid);
  for (const pid of seen) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  seen.clear();
  rmSync(stackDir, { recursive: true, force: true });
});

function startDummy(name: string, env: Record<string, string> = {}): number {
  const pid = processes.start({ name, command: 'sleep', args: ['30'], env: { PATH: process.env['PATH'] ?? '', ...env }, cwd: stackDir });
  seen.add(pid);
  return pid;
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** kill -9 of the daemon's whole process group (its `timeout` and the command), and wait until its leader is gone. */
async function kill(pid: number): Promise<void> {
  process.kill(-pid, 'SIGKILL');
  await until(`pid ${pid} gone`, () => !pidAlive(pid));
}

function pidOf(name: string): number {
  const entry = processes.entry(name);
  if (!entry) throw new Error(`no pid file for ${name}`);
  seen.add(entry.pid);
  return entry.pid;
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

function supervisor(overrides: Partial<SupervisorOptions> = {}): { sup: Supervisor; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sup = new Supervisor(processes, {
    intervalS: 0.05,
    maxRestarts: 5,
    windowS: 600,
    backoffS: 0,
    graceMs: 500,
    log: (fields) => lines.push(fields),
    ...overrides,
  });
  return { sup, lines };
}

describe('restart with the recorded spec', () => {
  it('records each spec (mode 0600) and starts a daemon again with the same command, environment and folder', async () => {
    const first = startDummy('dummy', { DUMMY_MARK: 'spec-1' });
    const specFile = processes.specFile('dummy');
    expect(statSync(specFile).mode & 0o777).toBe(0o600);
    const spec = processes.readSpec('dummy')!;
    expect(spec).toMatchObject({ name: 'dummy', command: 'sleep', args: ['30'], cwd: stackDir });
    expect(spec.env['DUMMY_MARK']).toBe('spec-1');
    const pidFile = processes.entry('dummy')!.file;
    writeFileSync(join(stackDir, 'stack.json'), JSON.stringify({ version: 1, pids: [{ name: 'dummy', pid: first }] }), { mode: 0o600 });

    await kill(first);
    const second = await processes.restart('dummy', { graceMs: 500 });
    seen.add(second);

    expect(second).not.toBe(first);
    expect(pidAlive(second)).toBe(true);
    // The same pid file (its start order kept), now with the new pid; the state file follows.
    expect(processes.entry('dummy')!.file).toBe(pidFile);
    expect(readFileSync(pidFile, 'utf8')).toBe(String(second));
    const state = JSON.parse(readFileSync(join(stackDir, 'stack.json'), 'utf8')) as { pids: unknown; version: number };
    expect(state).toEqual({ version: 1, pids: [{ name: 'dummy', pid: second }] });
    expect(statSync(join(stackDir, 'stack.json')).mode & 0o777).toBe(0o600);
    // Under `timeout` again, for what is left of the lifetime, with the same command, environment and folder.
    const args = cmdline(second);
    expect(args[0]).toBe('timeout');
    expect(Number(args[2])).toBeGreaterThan(50);
    expect(Number(args[2])).toBeLessThanOrEqual(60);
    expect(args.slice(3)).toEqual(['sleep', '30']);
    expect(readFileSync(`/proc/${second}/environ`, 'utf8').split('\0')).toContain('DUMMY_MARK=spec-1');
    expect(readlinkSync(`/proc/${second}/cwd`)).toBe(stackDir);
  });

  it('stops what is left of a live daemon first, and is refused once `stack down` has begun', async () => {
    const first = startDummy('dummy');
    const second = await processes.restart('dummy', { graceMs: 500 });
    seen.add(second);
    expect(pidAlive(first)).toBe(false);
    expect(pidAlive(second)).toBe(true);

    writeFileSync(processes.stoppingMarker, 'down\n');
    await expect(processes.restart('dummy')).rejects.toBeInstanceOf(StackStoppingError);
    expect(pidOf('dummy')).toBe(second);
  });
});

describe('supervisor', () => {
  it('restarts a killed daemon with its spec and logs it; leaves live ones alone', async () => {
    const live = startDummy('alive');
    const first = startDummy('dummy', { DUMMY_MARK: 'kept' });
    const { sup, lines } = supervisor();
    expect(await sup.tick()).toBe(true);
    expect(lines).toEqual([]);

    await kill(first);
    expect(await sup.tick()).toBe(true);
    const second = pidOf('dummy');
    expect(second).not.toBe(first);
    expect(pidAlive(second)).toBe(true);
    expect(cmdline(second).slice(3)).toEqual(['sleep', '30']);
    expect(readFileSync(`/proc/${second}/environ`, 'utf8').split('\0')).toContain('DUMMY_MARK=kept');
    expect(lines).toEqual([{ message: 'restarted', component: 'dummy', pid: second, previous_pid: first, restarts: 1 }]);
    expect(pidOf('alive')).toBe(live);

    // A daemon the supervisor started itself: its exit is known and logged.
    await kill(second);
    await sup.tick();
    const third = pidOf('dummy');
    expect(lines[1]).toMatchObject({ message: 'restarted', component: 'dummy', pid: third, previous_pid: second, restarts: 2 });
    expect(lines[1]!['exit']).toBeDefined();
  });

  it('gives up after the cap within the window, once, and logs given-up', async () => {
    startDummy('dummy');
    const { sup, lines } = supervisor({ maxRestarts: 2 });
    for (let i = 0; i < 2; i++) {
      await kill(pidOf('dummy'));
      await sup.tick();
    }
    const last = pidOf('dummy');
    await kill(last);
    await sup.tick();
    await sup.tick();
    expect(pidOf('dummy')).toBe(last);
    expect(pidAlive(last)).toBe(false);
    expect(lines.map((l) => l['message'])).toEqual(['restarted', 'restarted', 'given-up']);
    expect(lines[2]).toMatchObject({ component: 'dummy', pid: last, restarts: 2, window_s: 600 });
  });

  it('counts only the restarts within the window, and waits its backoff between restarts', async () => {
    startDummy('dummy');
    let now = 1_000_000;
    const { sup, lines } = supervisor({ maxRestarts: 2, windowS: 60, backoffS: 4, now: () => now });
    expect(backoffMs(0, 4)).toBe(0);
    expect(backoffMs(1, 4)).toBe(4000);
    expect(backoffMs(2, 4)).toBe(8000);
    expect(backoffMs(10, 4)).toBe(60_000);

    await kill(pidOf('dummy'));
    await sup.tick(); // the first restart: at once
    expect(lines).toHaveLength(1);
    const second = pidOf('dummy');
    await kill(second);
    now += 3000;
    await sup.tick(); // within the backoff (4 s after the first restart): waits
    expect(pidOf('dummy')).toBe(second);
    expect(lines).toHaveLength(1);
    now += 1500;
    await sup.tick();
    expect(lines).toHaveLength(2);
    // Two restarts in the window: the cap. Once the first is older than the window, one more is allowed.
    await kill(pidOf('dummy'));
    now += 60_000 - 4500;
    await sup.tick();
    expect(lines.map((l) => l['message'])).toEqual(['restarted', 'restarted', 'restarted']);
  });

  it('starts nothing once the stopping marker exists, and its run ends', async () => {
    const first = startDummy('dummy');
    const { sup, lines } = supervisor();
    writeFileSync(processes.stoppingMarker, 'down\n');
    await kill(first);
    expect(await sup.tick()).toBe(false);
    expect(pidOf('dummy')).toBe(first);
    expect(lines).toEqual([]);
    await sup.run(); // returns at once: the stack is being stopped
    expect(lines).toEqual([{ message: 'stopping: the stack is being stopped' }]);
    expect(pidAlive(first)).toBe(false);
  });

  it('stops its loop when the marker appears while it runs', async () => {
    startDummy('dummy');
    const { sup } = supervisor();
    const running = sup.run();
    await sleep(150);
    writeFileSync(processes.stoppingMarker, 'down\n');
    await kill(pidOf('dummy'));
    await running;
    expect(pidAlive(pidOf('dummy'))).toBe(false);
  });

  it('never restarts the memstore OSD (it would start empty) and says so once', async () => {
    const osd = startDummy('ceph-osd');
    const { sup, lines } = supervisor();
    await kill(osd);
    await sup.tick();
    await sup.tick();
    expect(pidOf('ceph-osd')).toBe(osd);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ message: 'not-restarted', component: 'ceph-osd', pid: osd });
    expect(String(lines[0]!['reason'])).toContain('memstore');
  });

  it('leaves a daemon alone while another restart of it is under way, and runs its check after each restart', async () => {
    const first = startDummy('dummy');
    const checked: Array<[string, number]> = [];
    const { sup, lines } = supervisor({
      afterRestart: async (name, pid) => {
        checked.push([name, pid]);
      },
    });
    writeFileSync(processes.lockFile('dummy'), '1');
    await kill(first);
    await sup.tick();
    expect(lines).toEqual([]);
    rmSync(processes.lockFile('dummy'));
    await sup.tick();
    expect(checked).toEqual([['dummy', pidOf('dummy')]]);
  });

  it('stack down order: the supervisor is stopped before the others', async () => {
    startDummy('supervisor');
    startDummy('a');
    startDummy('b');
    expect(await processes.stopAll(500, ['supervisor'])).toEqual(['supervisor', 'b', 'a']);
    expect(processes.running()).toEqual([]);
  });
});
