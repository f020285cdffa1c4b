import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebhookAlertSink } from '../lib/alerts/alerts.ts';
import { parseEnv } from '../lib/config.ts';
import { checkDeliveryAfter, DELIVERY_PATH, NOT_RESTARTABLE, openStack, waitServing } from './components.ts';
import { pidAlive, ProcessTable, RestartInProgressError, sleep, StackStoppingError } from './process.ts';
import { stackStatePath, SupervisorSchema } from './stack-config.ts';

/**
 * The stack's supervisor: one more daemon of `stack up` (under the same `timeout`), stopped
 * first by `stack down`. Every SUPERVISOR_INTERVAL_S it checks each component's pid; a dead one
 * is started again with its recorded spec (infra/process.ts), with a backoff between restarts of
 * the same component and a cap (SUPERVISOR_MAX_RESTARTS within SUPERVISOR_WINDOW_S, then it
 * gives up on that component). It never starts anything once `stack down` has written its
 * `stopping` marker. After a restart on the notification path it probes that path and restarts
 * radosgw when the store has stopped delivering (infra/components.ts). Log lines are JSON.
 */

export const SUPERVISOR_NAME = 'supervisor';

export interface SupervisorOptions {
  intervalS: number;
  maxRestarts: number;
  windowS: number;
  backoffS: number;
  log: (fields: Record<string, unknown>) => void;
  now?: () => number;
  /** Called after a component was started again (wait until it serves, probe the path); may throw. */
  afterRestart?: (name: string, pid: number) => Promise<void>;
  /** TERM, then KILL after this long, for what is left of a dead component's process group. */
  graceMs?: number;
}

interface ComponentState {
  /** When it was restarted, within the window. */
  restarts: number[];
  /** The dead pid the supervisor gave up on, or refused to restart (logged once). */
  settledPid?: number;
}

/** The wait before the (n+1)-th restart of a component within the window: none for the first, then backoff, twice that, ... up to 60 s. */
export function backoffMs(restartsInWindow: number, backoffS: number): number {
  if (restartsInWindow === 0) return 0;
  return Math.min(backoffS * 2 ** (restartsInWindow - 1), 60) * 1000;
}

export class Supervisor {
  private readonly components = new Map<string, ComponentState>();
  /** How the daemons this supervisor started ended, by pid. */
  private readonly exits = new Map<number, number | string>();

  constructor(
    readonly processes: ProcessTable,
    private readonly options: SupervisorOptions,
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private state(name: string): ComponentState {
    let state = this.components.get(name);
    if (!state) {
      state = { restarts: [] };
      this.components.set(name, state);
    }
    return state;
  }

  /** Counts a restart done by someone else for the supervisor (radosgw restarted to unwedge notifications): it counts against the cap. */
  recordRestart(name: string, pid: number, fields: Record<string, unknown> = {}): void {
    this.state(name).restarts.push(this.now());
    this.options.log({ message: 'restarted', component: name, pid, ...fields });
  }

  /** One round over every component. False when the stack is being stopped (the supervisor should end). */
  async tick(): Promise<boolean> {
    const { processes, options } = this;
    if (processes.stopping()) return false;
    for (const entry of processes.running()) {
      if (entry.name === SUPERVISOR_NAME || pidAlive(entry.pid) || processes.restarting(entry.name)) continue;
      const state = this.state(entry.name);
      if (state.settledPid === entry.pid) continue;
      const refused = NOT_RESTARTABLE[entry.name];
      if (refused) {
        state.settledPid = entry.pid;
        options.log({ message: 'not-restarted', component: entry.name, pid: entry.pid, reason: refused });
        continue;
      }
      const now = this.now();
      state.restarts = state.restarts.filter((t) => now - t < options.windowS * 1000);
      if (state.restarts.length >= options.maxRestarts) {
        state.settledPid = entry.pid;
        options.log({
          message: 'given-up',
          component: entry.name,
          pid: entry.pid,
          restarts: state.restarts.length,
          window_s: options.windowS,
          hint: `start it by hand: npm run stack:restart -- ${entry.name}`,
        });
        continue;
      }
      const last = state.restarts.at(-1);
      if (last !== undefined && now - last < backoffMs(state.restarts.length, options.backoffS)) continue;
      if (processes.stopping()) return false;
      const exit = this.exits.get(entry.pid);
      let pid = 0;
      try {
        pid = await processes.restart(entry.name, {
          graceMs: options.graceMs ?? 2000,
          onExit: (code, signal) => this.exits.set(pid, code ?? signal ?? 'unknown'),
        });
      } catch (error) {
        if (error instanceof StackStoppingError) return false;
        if (error instanceof RestartInProgressError) continue;
        state.restarts.push(now);
        options.log({ message: 'restart-failed', component: entry.name, error: error instanceof Error ? error.message : String(error) });
        continue;
      }
      state.restarts.push(now);
      options.log({
        message: 'restarted',
        component: entry.name,
        pid,
        previous_pid: entry.pid,
        ...(exit !== undefined ? { exit } : {}),
        restarts: state.restarts.length,
      });
      this.exits.delete(entry.pid);
      try {
        await options.afterRestart?.(entry.name, pid);
      } catch (error) {
        options.log({
          message: 'restart-check-failed',
          component: entry.name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return true;
  }

  /** Rounds every SUPERVISOR_INTERVAL_S until the stack is being stopped or `signal` aborts. */
  async run(signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted) {
      if (!(await this.tick())) {
        this.options.log({ message: 'stopping: the stack is being stopped' });
        return;
      }
      await sleep(this.options.intervalS * 1000);
    }
  }
}

function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service: 'supervisor', ...fields })}\n`);
}

/** What the supervisor says that a person should hear of: a component that died, one given up on, a delivery path not restored. */
const ALERTED: Record<string, { severity: 'SEV1' | 'SEV2'; summary: (f: Record<string, unknown>) => string }> = {
  restarted: {
    severity: 'SEV2',
    summary: (f) =>
      `${String(f['component'])} died${f['exit'] ? ` (${String(f['exit'])})` : ''} and was restarted; invocations in flight are retried by the bridge, work they held is swept after its lease`,
  },
  'given-up': {
    severity: 'SEV1',
    summary: (f) => `${String(f['component'])} keeps dying: the supervisor gave up on it (${String(f['hint'])})`,
  },
  'delivery-not-restored': {
    severity: 'SEV1',
    summary: (f) => `upload notifications are not delivered after restarting ${String(f['component'])}`,
  },
};

/** The supervisor's log, which also posts the lines of ALERTED to ALERT_WEBHOOK_URL when one is set. */
function alertingLog(webhook: string | undefined): (fields: Record<string, unknown>) => void {
  const sink = webhook ? new WebhookAlertSink(webhook, (message) => log({ message })) : undefined;
  return (fields) => {
    log(fields);
    const alerted = ALERTED[String(fields['message'])];
    if (!sink || !alerted) return;
    void sink.post({
      severity: alerted.severity,
      component: 'supervisor',
      reason: `component-${String(fields['message'])}`,
      summary: alerted.summary(fields),
      details: fields,
    });
  };
}

/**
 * Invokes the `sweep` function through serverless-offline's Lambda endpoint every `everyS` (on AWS
 * its schedule does): batches stopped at any step are re-driven without anyone running a command.
 */
function scheduleSweep(env: NodeJS.ProcessEnv, everyS: number, note: (fields: Record<string, unknown>) => void): void {
  if (everyS <= 0) return;
  const url = `http://127.0.0.1:${env['OFFLINE_LAMBDA_PORT'] ?? '3002'}/2015-03-31/functions/vaultmend-${env['STAGE'] ?? 'local'}-sweep/invocations`;
  const timer = setInterval(async () => {
    try {
      const answer = await fetch(url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(everyS * 1000) });
      note({ message: 'sweep invoked', status: answer.status, error: answer.headers.get('x-amz-function-error') ?? undefined });
    } catch (error) {
      note({ message: 'sweep not invoked', error: error instanceof Error ? error.message : String(error) });
    }
  }, everyS * 1000);
  timer.unref();
}

/** The supervisor daemon: waits for the stack's state file (written when `stack up` is done), then supervises. */
async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = parseEnv(SupervisorSchema, env);
  const stackDir = resolve(env['STACK_DIR'] || '.stack');
  const processes = new ProcessTable(stackDir, 60);
  log({ message: 'started', stack_dir: stackDir, interval_s: settings.SUPERVISOR_INTERVAL_S });
  while (!existsSync(stackStatePath(stackDir))) {
    if (processes.stopping()) return;
    await sleep(500);
  }
  const handle = openStack({ ...env, STACK_DIR: stackDir });
  const note = alertingLog(env['ALERT_WEBHOOK_URL'] || undefined);
  scheduleSweep(env, settings.SWEEP_INTERVAL_S, note);
  const supervisor: Supervisor = new Supervisor(processes, {
    intervalS: settings.SUPERVISOR_INTERVAL_S,
    maxRestarts: settings.SUPERVISOR_MAX_RESTARTS,
    windowS: settings.SUPERVISOR_WINDOW_S,
    backoffS: settings.SUPERVISOR_BACKOFF_S,
    log: note,
    afterRestart: async (name, pid) => {
      const started = Date.now();
      await waitServing(handle, name);
      note({ message: 'serving', component: name, pid, after_s: (Date.now() - started) / 1000 });
      if (!DELIVERY_PATH.has(name)) return;
      const check = await checkDeliveryAfter(
        handle,
        name,
        settings.SUPERVISOR_PROBE_TIMEOUT_S * 1000,
        (message, fields) => note({ message, component: name, ...fields }),
        (radosgw) => supervisor.recordRestart('radosgw', radosgw, { reason: 'notifications-stalled', after: name }),
      );
      note({
        message: check.delivered ? 'delivery-restored' : 'delivery-not-restored',
        component: name,
        after_s: check.seconds,
        ...(check.radosgwRestarted ? { radosgw_restarted: check.radosgwRestarted } : {}),
      });
    },
  });
  await supervisor.run();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      log({ message: 'failed', error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
}
