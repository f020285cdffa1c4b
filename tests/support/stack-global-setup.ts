import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { stackDown, stackUp, type StackInfo } from '../../infra/stack.ts';
import { startAlertSink } from './alert-sink.ts';
import { ALERT_SINK_PORT, ALERTS_FILE, testStackEnv } from './test-stack-env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
    alertsFile: string;
  }
}

/** Starts the real local stack once for the integration tests and stops it, by pid, after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = testStackEnv();
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  await stackDown(env, () => {}); // a previous run killed mid-way leaves pid files behind
  rmSync(ALERTS_FILE, { force: true });
  const sink = await startAlertSink(ALERT_SINK_PORT, ALERTS_FILE);
  try {
    const info = await stackUp(env, log);
    project.provide('stack', info);
    project.provide('alertsFile', ALERTS_FILE);
  } catch (error) {
    sink.close();
    throw error;
  }
  return async () => {
    await stackDown(env, log);
    sink.close();
  };
}
