import type { TestProject } from 'vitest/node';
import { stackDown, stackUp, type StackInfo } from '../../infra/stack.ts';
import { testStackEnv } from './test-stack-env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

/** Starts the real local stack once for the integration tests and stops it, by pid, after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = testStackEnv();
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  await stackDown(env, () => {}); // a previous run killed mid-way leaves pid files behind
  const info = await stackUp(env, log);
  project.provide('stack', info);
  return async () => {
    await stackDown(env, log);
  };
}
