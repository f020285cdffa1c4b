import { contractOfBatch } from '../contract/batch-contract.ts';
import { join } from 'node:path';
import type { DataKeyStore } from '../audit/data-keys.ts';
import { mapBounded } from '../audit/map-bounded.ts';
import { open } from '../audit/pii-cipher.ts';
import { vaultObjects } from '../vault/objects.ts';
import { readObject } from '../vault/vault-object.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal, literalList } from '../engine/sql.ts';
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
  const ingest = await readObject(deps.store, vaultObjects.ingestManifest.at(batch));
  const columns = (await contractOfBatch(deps.store, manifest.stream, ingest.contract)).columns.map((c) => c.name);

  return withWorkspace(deps.workDir, 'rollback', deps.engine, async ({ dir, engine }) => {
    const curated = await Promise.all(
      parts.map(async (key, i) => (await downloadObject(deps.store, key, undefined, join(dir, `curated-${i}.parquet`))).path),
    );
    // Each log as written and locked: its first version.
    const logs = await Promise.all(
      audits.map(
        async (key, i) =>
          (await downloadObject(deps.store, key, (await deps.store.versions(key))[0]?.versionId, join(dir, `audit-${i}.jsonl`))).path,
      ),
    );
    const erased = await revertsFrom(engine, deps.keys, manifest.stream, batch, logs);
    const [reverted] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM reverts');
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
      LEFT JOIN (SELECT row_id, ${pivot} FROM reverts GROUP BY ALL) r USING (row_id) ORDER BY c.row_id) TO ${literal(local)} (FORMAT parquet)`);
    const [counted] = await engine.rows<{ n: string }>(`SELECT count(*) AS n FROM read_parquet(${literal(local)})`);
    const key = keys.rollback(manifest.stream, batch);
    await deps.store.putFile(key, local, { contentType: 'application/vnd.apache.parquet' });
    return { key, rows: Number(counted?.n ?? 0), reverted_cells: Number(reverted?.n ?? 0), erased_cells: erased };
  });
}

/** Store calls in flight at once for the records' data keys. */
const IN_FLIGHT = 32;
/**
 * Longest audit line the engine reads: a line holds one cell's old and new value (a source line is
 * at most 8 MiB), sealed in base64 for pii, and a function of at most 2,000 characters. The reader
 * holds twice this per scan, within the engine's memory limit.
 */
const MAX_LINE_BYTES = 32 << 20;

/**
 * Table `reverts(row_id, column_name, old)`: every changed cell of the audit logs with the value it
 * had, read by the engine from the logs' JSON Lines. A sealed (pii) old value is opened under its
 * record's data key: the records' keys in one bounded-parallel pass over the store, the opening in
 * one pass over the sealed cells. Returns how many cells could not be opened (the record erased, or
 * sealed under a key the store no longer holds): they stay as they are.
 */
async function revertsFrom(engine: Engine, keyStore: DataKeyStore, stream: string, batch: string, logs: string[]): Promise<number> {
  await engine.run(`CREATE OR REPLACE TABLE audit_changes AS
    SELECT row_id, "column" AS column_name, old,
      -- A JSON null reads as NULL: a value that was empty, not a sealed one.
      COALESCE(json_type(old) = 'OBJECT' AND json_extract_string(old, '$.alg') = 'aes-256-gcm', false) AS sealed
    FROM read_json([${literalList(logs)}], format = 'newline_delimited', maximum_object_size = ${MAX_LINE_BYTES},
      columns = {'kind': 'VARCHAR', 'row_id': 'BIGINT', 'column': 'VARCHAR', 'old': 'JSON'})
    WHERE kind = 'cell-changed' AND "column" IS NOT NULL AND "column" <> ''`);
  const sealed = await engine.rows<{ row_id: string; column_name: string; record: string; iv: string; data: string; tag: string }>(
    `SELECT row_id, column_name, json_extract_string(old, '$.record') AS record, json_extract_string(old, '$.iv') AS iv, json_extract_string(old, '$.data') AS data, json_extract_string(old, '$.tag') AS tag
     FROM audit_changes WHERE sealed`,
  );
  const records = [...new Set(sealed.map((s) => s.record))];
  const found = await mapBounded(records, IN_FLIGHT, (record) => keyStore.existing(stream, record));
  const dataKeys = new Map(records.map((record, i) => [record, found[i]]));
  const opened: (string | null)[][] = [];
  let erased = 0;
  for (const s of sealed) {
    const key = dataKeys.get(s.record);
    const value = key ? openOrUndefined(key, `${batch}|${s.row_id}|${s.column_name}|old`, s) : undefined;
    if (value === undefined) erased += 1;
    else opened.push([s.row_id, s.column_name, value]);
  }
  await engine.loadTextTable('opened', ['row_id', 'column_name', 'old'], opened);
  await engine.run(`CREATE OR REPLACE TABLE reverts AS
    SELECT row_id, column_name, json_extract_string(old, '$') AS old FROM audit_changes WHERE NOT sealed
    UNION ALL SELECT CAST(row_id AS BIGINT), column_name, old FROM opened`);
  return erased;
}

/** The sealed value opened, or undefined when it does not open under the key (sealed under a key the store no longer holds). */
function openOrUndefined(
  key: Buffer,
  place: string,
  s: { record: string; iv: string; data: string; tag: string },
): string | null | undefined {
  try {
    return open(key, place, { alg: 'aes-256-gcm', record: s.record, iv: s.iv, data: s.data, tag: s.tag });
  } catch {
    return undefined;
  }
}
