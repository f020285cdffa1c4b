import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type EngineOptions } from './duckdb.ts';

/** The engine's budget as the steps are configured with it (the spill directory is the workspace's). */
export type EngineSettings = Omit<EngineOptions, 'spillDir'>;

/**
 * Runs `work` in a scratch directory of its own under `workDir` (downloads, Parquet before
 * upload), removed when `work` ends however it ends; the name says which step it was.
 *
 * @example
 * await inWorkDir(deps.workDir, 'ingest', async (dir) => downloadObject(store, key, undefined, join(dir, 'source')));
 */
export async function inWorkDir<T>(workDir: string, name: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(workDir, `${name}-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `work` with an engine that spills into `dir`, closed when `work` ends.
 *
 * @example
 * const rows = await withEngine(deps.engine, dir, (engine) => engine.rows('SELECT 1 AS one'));
 */
export async function withEngine<T>(settings: EngineSettings, dir: string, work: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await Engine.open({ ...settings, spillDir: join(dir, 'spill') });
  try {
    return await work(engine);
  } finally {
    engine.close();
  }
}

/**
 * A step's workspace: a scratch directory and an engine spilling into it, both gone when `work` ends.
 *
 * @example
 * await withWorkspace(deps.workDir, 'reconcile', deps.engine, async ({ dir, engine }) => { ... });
 */
export function withWorkspace<T>(
  workDir: string,
  name: string,
  settings: EngineSettings,
  work: (ws: { dir: string; engine: Engine }) => Promise<T>,
): Promise<T> {
  return inWorkDir(workDir, name, (dir) => withEngine(settings, dir, (engine) => work({ dir, engine })));
}
