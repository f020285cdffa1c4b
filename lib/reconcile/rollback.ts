import { join } from 'node:path';
import type { AuditLine } from '../audit/audit-chain.ts';
import type { DataKeyStore } from '../audit/data-keys.ts';
import { isSealed, open } from '../audit/pii-cipher.ts';
import { loadContract } from '../contract/registry.ts';
import { ident, literal } from '../engine/sql.ts';
import { VaultmendError } from '../errors.ts';
import { downloadObject } from '../store/download.ts';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { batchRevisions } from '../vault/revisions.ts';
import { withWorkspace } from '../engine/workspace.ts';

/**
 * Rollback: because functions, not data, were applied, a batch's fixes can be undone from its
 * audit. The curated rows, as text, with every changed cell set back to its old value, written
 * to `rollback/<stream>/<batch>.parquet`. A pii value whose record was erased cannot come back:
 * such cells stay as they are and are counted.
 */
export interface RollbackDeps {
  store: ObjectStore;
  keys: DataKeyStore;
  workDir: string;
  engine: { memoryLimit: string; threads: number };
}

export interface RollbackOutcome {
  key: string;
  rows: number;
  reverted_cells: number;
  erased_cells: number;
}

export async function rollbackBatch(deps: RollbackDeps, batch: string): Promise<RollbackOutcome> {
  const revisions = await batchRevisions(deps.store, batch);
  if (!revisions) throw new VaultmendError('rollback-impossible', `batch ${batch} has not been reconciled: nothing to roll back`);
  const manifest = revisions.latest;
  // A revised batch: every curated part (each row in one) and every audit object of the chain.
  const parts = manifest.curated_parts ?? (manifest.curated ? [manifest.curated] : []);
  const audits = (manifest.audit_chain ?? (manifest.audit ? [manifest.audit] : [])).map((a) => a.key);
  if (parts.length === 0 || audits.length === 0)
    throw new VaultmendError('rollback-impossible', `batch ${batch} was not promoted (status ${manifest.status}): nothing to roll back`);
  const registered = await loadContract(deps.store, manifest.stream);
  if (!registered) throw new VaultmendError('contract-missing', `no contract for stream ${manifest.stream}`);
  const columns = registered.contract.columns.map((c) => c.name);

  const reverts: (string | null)[][] = [];
  let erased = 0;
  // Each log as written and locked: its first version.
  const texts = await Promise.all(audits.map(async (key) => deps.store.readText(key, (await deps.store.versions(key))[0]?.versionId)));
  for (const text of texts.join('\n').split('\n')) {
    if (!text) continue;
    const line = JSON.parse(text) as AuditLine;
    if (line.kind !== 'cell-changed' || !line.column) continue;
    let old = line.old;
    if (isSealed(old)) {
      const key = await deps.keys.existing(manifest.stream, old.record);
      if (!key) {
        erased += 1;
        continue;
      }
      try {
        old = open(key, `${batch}|${line.row_id}|${line.column}|old`, old);
      } catch {
        // Sealed under a key the store no longer holds: as unreadable as an erased one, and counted.
        erased += 1;
        continue;
      }
    }
    reverts.push([String(line.row_id), line.column, old as string | null]);
  }

  return withWorkspace(deps.workDir, 'rollback', deps.engine, async ({ dir, engine }) => {
    const curated = await Promise.all(
      parts.map(async (key, i) => (await downloadObject(deps.store, key, undefined, join(dir, `curated-${i}.parquet`))).path),
    );
    await engine.loadTextTable('reverts', ['row_id', 'column_name', 'old'], reverts);
    const pivot = columns
      .map(
        (c, i) =>
          `bool_or(column_name = ${literal(c)}) AS "$has${i}", any_value(old) FILTER (WHERE column_name = ${literal(c)}) AS "$old${i}"`,
      )
      .join(', ');
    const select = columns
      .map((c, i) => `CASE WHEN r."$has${i}" THEN r."$old${i}" ELSE CAST(c.${ident(c)} AS VARCHAR) END AS ${ident(c)}`)
      .join(', ');
    const local = join(dir, 'rollback.parquet');
    await engine.run(`COPY (SELECT c.row_id, ${select} FROM read_parquet([${curated.map(literal).join(', ')}]) c
      LEFT JOIN (SELECT CAST(row_id AS BIGINT) AS row_id, ${pivot} FROM reverts GROUP BY ALL) r USING (row_id) ORDER BY c.row_id) TO ${literal(local)} (FORMAT parquet)`);
    const [counted] = await engine.rows<{ n: string }>(`SELECT count(*) AS n FROM read_parquet(${literal(local)})`);
    const key = keys.rollback(manifest.stream, batch);
    await deps.store.putFile(key, local, { contentType: 'application/vnd.apache.parquet' });
    return { key, rows: Number(counted?.n ?? 0), reverted_cells: reverts.length, erased_cells: erased };
  });
}
