import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { stackDown, stackUp } from '../../infra/stack.ts';
import { FAULTS_DIR, faultStackEnv } from './fault-stack-env.ts';

/** Starts the fault suite's own stack (see fault-stack-env.ts) and stops it, by pid, after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = faultStackEnv();
  const log = (line: string) => process.stderr.write(`[fault stack] ${line}\n`);
  await stackDown(env, () => {});
  rmSync(FAULTS_DIR, { recursive: true, force: true });
  for (const sub of ['armed', 'fired']) mkdirSync(join(FAULTS_DIR, sub), { recursive: true });
  const info = await stackUp(env, log);
  project.provide('stack', info);
  return async () => {
    await stackDown(env, log);
  };
}
