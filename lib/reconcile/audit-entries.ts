import type { DataKeyStore } from '../audit/data-keys.ts';
import { seal } from '../audit/pii-cipher.ts';
import type { Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { literal, literalList } from '../engine/sql.ts';

/**
 * The batch's audit lines, in row order, as JSON objects without their `prev` (chainLines adds
 * it): every changed cell of a fixed row (from the remediate steps' audit parts) and every
 * quarantined row with its reasons (no values). Built as set work in the engine: the changed
 * cells are selected, ordered and written as JSON text in SQL, members in AuditEntry's order
 * (strings escaped by the engine; numbers as JavaScript writes them). Old and new values of pii
 * columns are sealed under the record's data key (AES-256-GCM, which the engine does not have):
 * the records' keys come in bounded-parallel passes over the store, each record's cells are
 * sealed the moment its key is in, and meanwhile the engine drafts every line; the sealed values
 * are joined into the drafts last.
 * Tables left in the engine: `audit_changes`, `audit_drafts`, `audit_sealed`, `audit_lines(seq, body)`.
 */
export async function auditLines(
  engine: Engine,
  contract: Contract,
  context: { stream: string; batch: string; asOf: string; auditParts: string[]; keys: DataKeyStore; touched?: string[] },
): Promise<{ bodies: string[]; timings_ms: Record<string, number> }> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    timings[name] = Math.round(performance.now() - t);
    t = performance.now();
  };
  // A revision writes the lines of the rows its reviewed clusters touch, no others (they are in an earlier audit object).
  const touched = context.touched ? ` SEMI JOIN (SELECT row_id FROM read_parquet([${literalList(context.touched)}])) USING (row_id)` : '';
  await selectChanges(engine, contract, context.auditParts, touched);
  lap('select');
  const sealer = await piiSealer(engine, context.batch);
  // The store's round trips and the engine's drafting side by side; both are waited for, whichever fails.
  const [keyed, drafted] = await Promise.allSettled([
    context.keys.keysFor(context.stream, sealer.records, sealer.seal),
    engine.run(`CREATE OR REPLACE TABLE audit_drafts AS ${changedDraftsSql()} UNION ALL ${quarantinedDraftsSql(context.asOf, touched)}`),
  ]);
  if (keyed.status === 'rejected') throw keyed.reason;
  if (drafted.status === 'rejected') throw drafted.reason;
  lap('keys_and_drafts');
  // A key store that does not report keys as they come: the cells still unsealed, now.
  for (const [record, key] of keyed.value) sealer.seal(record, key);
  await engine.loadTextTable('audit_sealed', ['row_id', 'column', 'old', 'new'], sealer.sealed());
  lap('seal');
  await engine.run(`CREATE OR REPLACE TABLE audit_lines AS
    SELECT seq, '{"seq":' || CAST(seq AS VARCHAR) || ',"stream":' || ${literal(JSON.stringify(context.stream))}
      || ',"batch":' || ${literal(JSON.stringify(context.batch))} || ',' || fields || '}' AS body
    FROM (SELECT row_number() OVER (ORDER BY d.row_id, d.rank, d.col) AS seq,
        d.head || COALESCE(d.vals, s.old || ',"new":' || s.new) || d.tail AS fields
      FROM audit_drafts d
      LEFT JOIN (SELECT CAST(row_id AS BIGINT) AS row_id, "column", old, new FROM audit_sealed) s ON s.row_id = d.row_id AND s."column" = d.col)`);
  const lines = await engine.rows<{ body: string }>('SELECT body FROM audit_lines ORDER BY seq');
  lap('lines');
  return { bodies: lines.map((l) => l.body), timings_ms: timings };
}

/**
 * The pii cells of `audit_changes`, by record, and their sealing: `seal(record, key)` seals the
 * old and new value of each of the record's cells (once), `sealed()` gives them as rows of
 * `audit_sealed` (row id, column, old and new as sealed JSON). The IV comes from the value's place.
 */
async function piiSealer(engine: Engine, batch: string) {
  const cells = await engine.rows<{ row_id: string; pk_hash: string; column: string; old: string | null; new: string | null }>(
    // Each value behind a '#': the client's text decoder drops a leading U+FEFF, which is the value's own.
    `SELECT row_id, pk_hash, "column", '#' || old AS old, '#' || new AS new FROM audit_changes WHERE pii ORDER BY pk_hash, row_id, "column"`,
  );
  for (const c of cells) {
    c.old = c.old === null ? null : c.old.slice(1);
    c.new = c.new === null ? null : c.new.slice(1);
  }
  const byRecord = new Map<string, typeof cells>();
  for (const c of cells) {
    const held = byRecord.get(c.pk_hash);
    if (held) held.push(c);
    else byRecord.set(c.pk_hash, [c]);
  }
  const rows: string[][] = [];
  return {
    records: [...byRecord.keys()],
    seal: (record: string, key: Buffer) => {
      const pending = byRecord.get(record);
      if (!pending) return;
      byRecord.delete(record);
      for (const c of pending) {
        const place = `${batch}|${c.row_id}|${c.column}|`;
        rows.push([
          c.row_id,
          c.column,
          JSON.stringify(seal(key, record, `${place}old`, c.old)),
          JSON.stringify(seal(key, record, `${place}new`, c.new)),
        ]);
      }
    },
    sealed: () => {
      if (byRecord.size > 0) throw new Error(`no data key came for ${byRecord.size} record(s) with pii changes`);
      return rows;
    },
  };
}

/**
 * Control characters the engine escapes in upper-case hex (`\u001F`) where JSON.stringify writes
 * lower-case (`\u001f`): the same JSON value, but the audit's bytes are JSON.stringify's.
 */
const UPPER_HEX_ESCAPES = ['000B', '000E', '000F', '001A', '001B', '001C', '001D', '001E', '001F'];

/** A text value as JSON text, in SQL: a string quoted and escaped as JSON.stringify does, NULL as null. */
const json = (sql: string) => {
  const quoted = `CAST(to_json(CAST(${sql} AS VARCHAR)) AS VARCHAR)`;
  const lowered = UPPER_HEX_ESCAPES.reduce(
    (text, hex) => `replace(${text}, ${literal(`\\u${hex}`)}, ${literal(`\\u${hex.toLowerCase()}`)})`,
    quoted,
  );
  return `COALESCE(${lowered}, 'null')`;
};

/** A number as JSON text as JavaScript writes a double: an integral value without a fraction, NaN and infinities as null. */
const jsonNumber = (sql: string) => {
  const x = `CAST(${sql} AS DOUBLE)`;
  return `CASE WHEN ${x} IS NULL OR NOT isfinite(${x}) THEN 'null'
    WHEN ${x} = trunc(${x}) AND abs(${x}) < 1e21 THEN CAST(CAST(${x} AS HUGEINT) AS VARCHAR)
    ELSE CAST(to_json(${x}) AS VARCHAR) END`;
};

/**
 * Table `audit_changes`: the changed cells of the fixed rows (one per row and column: a cell two
 * clusters fixed alike is one change; the row would be quarantined had they differed), `pii` when
 * its column is one.
 */
async function selectChanges(engine: Engine, contract: Contract, auditParts: string[], touched: string): Promise<void> {
  const piiColumns = contract.columns.filter((c) => c.pii).map((c) => c.name);
  const isPii = piiColumns.length ? `"column" IN (${literalList(piiColumns)})` : 'false';
  if (auditParts.length === 0) {
    await engine.run(`CREATE OR REPLACE TABLE audit_changes AS SELECT NULL::BIGINT AS row_id, NULL::VARCHAR AS pk_hash,
      NULL::VARCHAR AS "column", NULL::VARCHAR AS old, NULL::VARCHAR AS new, NULL::VARCHAR AS function, NULL::VARCHAR AS function_name,
      NULL::VARCHAR AS tier, NULL::DOUBLE AS confidence, NULL::VARCHAR AS model, NULL::VARCHAR AS model_version,
      NULL::VARCHAR AS timestamp, NULL::VARCHAR AS cluster, NULL::VARCHAR AS operator, false AS pii WHERE false`);
    return;
  }
  const parts = `read_parquet([${literalList(auditParts)}], union_by_name = true)`;
  const operator = (await hasColumn(engine, parts, 'operator')) ? 'operator' : 'NULL::VARCHAR AS operator';
  await engine.run(`CREATE OR REPLACE TABLE audit_changes AS
    SELECT row_id, pk_hash, "column", old, new, function, function_name, tier, confidence, model, model_version,
      strftime(timestamp AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS timestamp, cluster, ${operator}, ${isPii} AS pii
    FROM ${parts} SEMI JOIN (SELECT row_id FROM ledger WHERE lane = 'fixed') USING (row_id)${touched}
    QUALIFY row_number() OVER (PARTITION BY row_id, "column" ORDER BY cluster) = 1`);
}

/**
 * A `cell-changed` line's members after `seq, stream, batch` in three parts: `head` up to the old
 * value, `vals` the old and new value (NULL for a pii cell: `audit_sealed` holds them), `tail` the rest.
 */
function changedDraftsSql(): string {
  return `SELECT row_id, 0 AS rank, "column" AS col,
      '"kind":"cell-changed","row_id":' || COALESCE(CAST(row_id AS VARCHAR), 'null') || ',"pk_hash":' || ${json('pk_hash')}
      || ',"column":' || ${json('"column"')} || ',"old":' AS head,
      CASE WHEN pii THEN NULL ELSE ${json('old')} || ',"new":' || ${json('new')} END AS vals,
      ',"function":' || ${json('function')} || ',"function_name":' || ${json('function_name')}
      || ',"tier":' || ${json('tier')} || ',"confidence":' || ${jsonNumber('confidence')}
      || ',"model":' || ${json('model')} || ',"model_version":' || ${json('model_version')}
      || ',"timestamp":' || ${json('timestamp')} || ',"reason":null,"cluster":' || ${json('cluster')}
      || CASE WHEN operator IS NOT NULL AND operator <> '' THEN ',"operator":' || ${json('operator')} ELSE '' END AS tail
    FROM audit_changes`;
}

/** A `row-quarantined` line's members after `seq, stream, batch` (all in `head`): its reasons, stamped `asOf`, no values. */
function quarantinedDraftsSql(asOf: string, touched: string): string {
  return `SELECT row_id, 1 AS rank, NULL AS col,
      '"kind":"row-quarantined","row_id":' || COALESCE(CAST(row_id AS VARCHAR), 'null') || ',"pk_hash":' || ${json("COALESCE(pk_hash, '')")}
      || ',"column":null,"old":null,"new":null,"function":null,"function_name":null,"tier":null,"confidence":null,'
      || '"model":null,"model_version":null,"timestamp":' || ${literal(JSON.stringify(asOf))}
      || ',"reason":' || ${json("COALESCE(array_to_string(reasons, ','), '')")} || ',"cluster":' || ${json('cluster')} AS head,
      '' AS vals, '' AS tail
    FROM (SELECT row_id, any_value(pk_hash) AS pk_hash, list_sort(list_distinct(list(reason))) AS reasons, min(cluster) AS cluster
      FROM quarantine_reasons${touched} GROUP BY row_id)`;
}

/** Whether a relation has a column (audit parts written before operator decisions existed have no `operator`). */
async function hasColumn(engine: Engine, relation: string, column: string): Promise<boolean> {
  const described = await engine.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM ${relation}`);
  return described.some((d) => d.column_name === column);
}
