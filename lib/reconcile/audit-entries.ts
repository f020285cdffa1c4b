import type { AuditEntry } from '../audit/audit-chain.ts';
import type { DataKeyStore } from '../audit/data-keys.ts';
import { seal } from '../audit/pii-cipher.ts';
import type { Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { literal } from '../engine/sql.ts';

/**
 * The batch's audit entries, in row order: every changed cell of a fixed row (from the
 * remediate steps' audit parts) and every quarantined row with its reasons. Old and new values
 * of pii columns are sealed under the record's data key; quarantine entries carry no values.
 */
export async function auditEntries(
  engine: Engine,
  contract: Contract,
  context: { stream: string; batch: string; asOf: string; auditParts: string[]; keys: DataKeyStore; touched?: string[] },
): Promise<AuditEntry[]> {
  const pii = new Set(contract.columns.filter((c) => c.pii).map((c) => c.name));
  // A revision writes the lines of the rows its reviewed clusters touch, no others (they are in an earlier audit object).
  const touched = context.touched
    ? ` SEMI JOIN (SELECT row_id FROM read_parquet([${context.touched.map(literal).join(', ')}])) USING (row_id)`
    : '';
  const parts = `read_parquet([${context.auditParts.map(literal).join(', ')}], union_by_name = true)`;
  const operator = context.auditParts.length && (await hasColumn(engine, parts, 'operator')) ? 'operator' : 'NULL::VARCHAR AS operator';
  const changes = context.auditParts.length
    ? await engine.rows<{
        row_id: string;
        pk_hash: string;
        column: string;
        old: string | null;
        new: string | null;
        function: string;
        function_name: string;
        tier: string;
        confidence: number;
        model: string | null;
        model_version: string | null;
        timestamp: string;
        cluster: string;
        operator: string | null;
      }>(`SELECT row_id, pk_hash, "column", old, new, function, function_name, tier, confidence, model, model_version,
            strftime(timestamp AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS timestamp, cluster, ${operator}
          FROM ${parts} SEMI JOIN (SELECT row_id FROM ledger WHERE lane = 'fixed') USING (row_id)${touched}
          -- A cell two clusters fixed alike is one change (the row would be quarantined had they differed).
          QUALIFY row_number() OVER (PARTITION BY row_id, "column" ORDER BY cluster) = 1
          ORDER BY row_id, "column"`)
    : [];
  const quarantined = await engine.rows<{ row_id: string; pk_hash: string | null; reasons: string[]; cluster: string | null }>(`
    SELECT row_id, any_value(pk_hash) AS pk_hash, list_sort(list_distinct(list(reason))) AS reasons, min(cluster) AS cluster
    FROM quarantine_reasons${touched} GROUP BY row_id`);

  const entries: { order: [number, number, string]; entry: AuditEntry }[] = [];
  const dataKeys = await context.keys.keysFor(
    context.stream,
    changes.filter((c) => pii.has(c.column)).map((c) => c.pk_hash),
  );
  for (const c of changes) {
    const rowId = Number(c.row_id);
    let oldValue: AuditEntry['old'] = c.old;
    let newValue: AuditEntry['new'] = c.new;
    if (pii.has(c.column)) {
      const key = dataKeys.get(c.pk_hash)!;
      const place = (side: string) => `${context.batch}|${rowId}|${c.column}|${side}`;
      oldValue = seal(key, c.pk_hash, place('old'), c.old);
      newValue = seal(key, c.pk_hash, place('new'), c.new);
    }
    entries.push({
      order: [rowId, 0, c.column],
      entry: {
        kind: 'cell-changed',
        row_id: rowId,
        pk_hash: c.pk_hash,
        column: c.column,
        old: oldValue,
        new: newValue,
        function: c.function,
        function_name: c.function_name,
        tier: c.tier,
        confidence: c.confidence,
        model: c.model,
        model_version: c.model_version,
        timestamp: c.timestamp,
        reason: null,
        cluster: c.cluster,
        ...(c.operator ? { operator: c.operator } : {}),
      },
    });
  }
  for (const q of quarantined) {
    entries.push({
      order: [Number(q.row_id), 1, ''],
      entry: {
        kind: 'row-quarantined',
        row_id: Number(q.row_id),
        pk_hash: q.pk_hash ?? '',
        column: null,
        old: null,
        new: null,
        function: null,
        function_name: null,
        tier: null,
        confidence: null,
        model: null,
        model_version: null,
        timestamp: context.asOf,
        reason: q.reasons.join(','),
        cluster: q.cluster,
      },
    });
  }
  // Code-point order, not the locale's: the bytes (and the root hash) must not depend on the machine.
  const byCodePoint = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  entries.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1] || byCodePoint(a.order[2], b.order[2]));
  return entries.map((e) => e.entry);
}

/** Whether a relation has a column (audit parts written before operator decisions existed have no `operator`). */
async function hasColumn(engine: Engine, relation: string, column: string): Promise<boolean> {
  const described = await engine.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM ${relation}`);
  return described.some((d) => d.column_name === column);
}
