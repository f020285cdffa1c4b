import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../lib/engine/duckdb.ts';

/** Writes a Parquet file with the engine from a SELECT and returns its bytes. */
export async function parquetBytes(select: string): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'vm-pq-'));
  const engine = await Engine.open({ memoryLimit: '256MB', threads: 1, spillDir: join(dir, 'spill') });
  try {
    const path = join(dir, 'out.parquet');
    await engine.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
    return readFileSync(path);
  } finally {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
