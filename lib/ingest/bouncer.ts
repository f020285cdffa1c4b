import { primaryKey, type Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { expressionRules, isNullSql, reasonList, typedProjection, uniqueTests } from './bouncer-rules.ts';

/**
 * The deterministic bouncer: classifies every row of table `src` (loaded with its row-rule
 * reasons, see load-source.ts) in set operations.
 *   clean       every rule passes              -> typed Parquet, the fast lane
 *   suspect     some rule fails                -> text Parquet with row_id, pk_hash, reasons
 *   quarantined rows sharing a primary key with different content (a conflict no function can settle)
 *   collapsed   exact duplicates of an earlier row with the same key (kept once, counted)
 * Verdicts that need the whole batch (expression and unique tests, repeated keys) go into small
 * side tables of the rows concerned; the view `verdicts` joins them only when they exist.
 */
export interface BouncerCounts {
  source: number;
  clean: number;
  suspect: number;
  quarantined: number;
  duplicates_collapsed: number;
}

export interface BouncerResult {
  counts: BouncerCounts;
  /** How many suspect rows fail each `<column>:<rule>`. */
  reasons: Record<string, number>;
}

export async function classifyRows(engine: Engine, contract: Contract): Promise<BouncerResult> {
  const extra = await batchReasons(engine, contract);
  const keyed = primaryKey(contract).length > 0 && (await settleDuplicateKeys(engine, contract));
  await engine.run(`CREATE OR REPLACE VIEW verdicts AS ${verdictsSql(contract, extra, keyed)}`);

  const byDisposition = await engine.rows<{ disposition: string; n: string }>(
    'SELECT disposition, count(*) AS n FROM verdicts GROUP BY disposition',
  );
  const count = (d: string) => Number(byDisposition.find((r) => r.disposition === d)?.n ?? 0);
  const [total] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM src');
  const reasonRows = await engine.rows<{ reason: string; n: string }>(
    `SELECT reason, count(*) AS n FROM (SELECT unnest(reasons) AS reason FROM verdicts WHERE disposition = 'suspect')
     GROUP BY reason ORDER BY reason`,
  );
  return {
    counts: {
      source: Number(total?.n ?? 0),
      clean: count('clean'),
      suspect: count('suspect'),
      quarantined: count('quarantined'),
      duplicates_collapsed: count('collapsed'),
    },
    reasons: Object.fromEntries(reasonRows.map((r) => [r.reason, Number(r.n)])),
  };
}

/** Every row with its verdict, in file order; joins the side tables only when they have rows. */
function verdictsSql(contract: Contract, extra: boolean, keyed: boolean): string {
  const columns = contract.columns.map((c) => `s.${ident(c.name)}`).join(', ');
  let reasons = 's.reasons';
  if (extra) reasons = `list_concat(${reasons}, COALESCE(x.reasons, []::VARCHAR[]))`;
  const own = `CASE WHEN len(${reasons}) = 0 THEN 'clean' ELSE 'suspect' END`;
  const joins = [
    extra ? 'LEFT JOIN batch_reasons x ON x.row_id = s.rowid + 1' : '',
    keyed ? 'LEFT JOIN key_verdicts k ON k.row_id = s.rowid + 1' : '',
  ].join(' ');
  return `SELECT s.rowid + 1 AS row_id, s.pk_hash,
      ${keyed ? `COALESCE(k.reasons, ${reasons})` : reasons} AS reasons,
      ${keyed ? `COALESCE(k.disposition, ${own})` : own} AS disposition,
      ${keyed ? 'k.duplicate_of' : 'NULL::BIGINT'} AS duplicate_of,
      ${columns}
    FROM src s ${joins}
    ${extra || keyed ? 'ORDER BY row_id' : ''}`;
}

/** Expression tests (over typed values) and unique tests: reasons of the rows that fail them. */
async function batchReasons(engine: Engine, contract: Contract): Promise<boolean> {
  const parts: string[] = [];
  const expressions = expressionRules(contract);
  if (expressions.length) {
    parts.push(`SELECT row_id, unnest(reasons) AS reason FROM (
      SELECT rowid + 1 AS row_id, ${reasonList(expressions)} AS reasons FROM (SELECT rowid, ${typedProjection(contract)} FROM src))`);
  }
  const pk = primaryKey(contract);
  for (const unique of uniqueTests(contract)) {
    const names = unique.map((n) => contract.columns.find((c) => c.name.toLowerCase() === n.toLowerCase())!);
    // A unique primary key is settled by the duplicate-key rules instead.
    if (pk.length && names.length === pk.length && names.every((n) => n.primary_key)) continue;
    const cols = names.map((n) => ident(n.name)).join(', ');
    const present = names.map((n) => `NOT ${isNullSql(n, contract)}`).join(' AND ');
    parts.push(`SELECT row_id, ${literal(`${names.map((n) => n.name).join('+')}:unique`)} AS reason FROM (
      SELECT rowid + 1 AS row_id, count(*) OVER (PARTITION BY ${cols}) AS n FROM src WHERE ${present}) WHERE n > 1`);
  }
  if (!parts.length) return false;
  await engine.run(`CREATE OR REPLACE TEMP TABLE batch_reasons AS
    SELECT row_id, list(reason ORDER BY reason) AS reasons FROM (${parts.join(' UNION ALL ')}) GROUP BY row_id`);
  const [n] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM batch_reasons');
  return Number(n?.n ?? 0) > 0;
}

/**
 * Rows whose (complete) primary key repeats: when every copy has the same content, the first
 * stays and the others are collapsed onto it; when the copies differ, all are quarantined.
 * Only the repeated keys are compared by content, so a file without duplicates pays one GROUP BY.
 */
async function settleDuplicateKeys(engine: Engine, contract: Contract): Promise<boolean> {
  const pk = primaryKey(contract).map((c) => ident(c.name));
  const keyList = pk.join(', ');
  const complete = primaryKey(contract).map((c) => `NOT ${isNullSql(c, contract)}`).join(' AND ');
  const content = contract.columns.map((c) => `s.${ident(c.name)}`).join(', ');
  await engine.run(`CREATE OR REPLACE TEMP TABLE repeated_keys AS
    SELECT ${keyList}, min(rowid) + 1 AS first_row FROM src WHERE ${complete} GROUP BY ${keyList} HAVING count(*) > 1`);
  const [repeated] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM repeated_keys');
  if (Number(repeated?.n ?? 0) === 0) return false;
  await engine.run(`CREATE OR REPLACE TEMP TABLE key_verdicts AS
    WITH rows AS (SELECT s.rowid + 1 AS row_id, k.first_row, [${content}] AS content, ${pk.map((c) => `s.${c}`).join(', ')}
                  FROM src s JOIN repeated_keys k USING (${keyList})),
         variants AS (SELECT ${keyList}, count(DISTINCT content) AS n FROM rows GROUP BY ${keyList})
    SELECT r.row_id,
      CASE WHEN v.n > 1 THEN 'quarantined' ELSE 'collapsed' END AS disposition,
      CASE WHEN v.n > 1 THEN ['pk:conflict'] ELSE ['pk:duplicate'] END AS reasons,
      CASE WHEN v.n > 1 THEN NULL ELSE r.first_row END AS duplicate_of
    FROM rows r JOIN variants v USING (${keyList})
    WHERE v.n > 1 OR r.row_id <> r.first_row`);
  return true;
}

/** Writes the classified rows as Parquet files (only those with rows); returns the paths written. */
export async function writeOutputs(
  engine: Engine,
  contract: Contract,
  counts: BouncerCounts,
  paths: { clean: string; suspect: string; quarantine: string },
): Promise<{ clean?: string; suspect?: string; quarantine?: string }> {
  const text = contract.columns.map((c) => ident(c.name)).join(', ');
  const written: { clean?: string; suspect?: string; quarantine?: string } = {};
  const copy = (select: string, where: string, path: string) =>
    engine.run(`COPY (SELECT ${select} FROM verdicts WHERE ${where}) TO ${literal(path)} (FORMAT parquet)`);
  if (counts.clean > 0) {
    await copy(`row_id, pk_hash, ${typedProjection(contract)}`, `disposition = 'clean'`, paths.clean);
    written.clean = paths.clean;
  }
  if (counts.suspect > 0) {
    await copy(`row_id, pk_hash, reasons, ${text}`, `disposition = 'suspect'`, paths.suspect);
    written.suspect = paths.suspect;
  }
  if (counts.quarantined + counts.duplicates_collapsed > 0) {
    await copy(`row_id, pk_hash, disposition, reasons, duplicate_of, ${text}`, `disposition IN ('quarantined', 'collapsed')`, paths.quarantine);
    written.quarantine = paths.quarantine;
  }
  return written;
}
