import { primaryKey, type Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { expressionRules, isNullSql, rowRules, typedSql, uniqueTests } from './bouncer-rules.ts';

/**
 * The deterministic bouncer: classifies every row of table `src` in set operations.
 *   clean       every rule passes              -> typed Parquet, the fast lane
 *   suspect     some rule fails                -> text Parquet with row_id, pk_hash, reasons
 *   quarantined rows sharing a primary key with different content (a conflict no function can settle)
 *   collapsed   exact duplicates of an earlier row with the same key (kept once, counted)
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

const listOf = (items: string[]) => (items.length ? `[${items.join(', ')}]` : '[]::VARCHAR[]');

export async function classifyRows(engine: Engine, contract: Contract): Promise<BouncerResult> {
  const columns = contract.columns.map((c) => ident(c.name));
  const pk = primaryKey(contract);
  const contentJson = `to_json([${columns.join(', ')}])`;
  const pkHash = pk.length ? `sha256(to_json([${pk.map((c) => ident(c.name)).join(', ')}]))` : `sha256(${contentJson})`;
  const pkComplete = pk.length ? pk.map((c) => `NOT ${isNullSql(c, contract)}`).join(' AND ') : 'false';
  const reasonItems = rowRules(contract).map((r) => `CASE WHEN ${r.fails} THEN ${literal(r.code)} END`);

  await engine.run(`CREATE OR REPLACE TABLE checked AS
    SELECT row_id, ${pkHash} AS pk_hash, ${pkComplete} AS pk_complete, sha256(${contentJson}) AS content_hash,
           list_filter(${listOf(reasonItems)}, x -> x IS NOT NULL) AS reasons
    FROM src`);

  // Expression tests see typed values, so they run over a typed projection of src.
  const expressions = expressionRules(contract);
  if (expressions.length) {
    const items = expressions.map((r) => `CASE WHEN ${r.fails} THEN ${literal(r.code)} END`);
    await engine.run(`CREATE OR REPLACE TABLE expression_failures AS
      SELECT row_id, list_filter(${listOf(items)}, x -> x IS NOT NULL) AS reasons
      FROM (SELECT row_id, ${typedProjection(contract)} FROM src)`);
    await engine.run(`UPDATE checked SET reasons = list_concat(checked.reasons, e.reasons)
      FROM expression_failures e WHERE e.row_id = checked.row_id AND len(e.reasons) > 0`);
  }

  // unique tests beyond the primary key: every row of a repeated combination is suspect.
  for (const unique of uniqueTests(contract)) {
    const names = unique.map((n) => contract.columns.find((c) => c.name.toLowerCase() === n.toLowerCase())!);
    if (pk.length && names.length === pk.length && names.every((n) => n.primary_key)) continue;
    const code = literal(`${names.map((n) => n.name).join('+')}:unique`);
    const cols = names.map((n) => ident(n.name)).join(', ');
    const present = names.map((n) => `NOT ${isNullSql(n, contract)}`).join(' AND ');
    await engine.run(`UPDATE checked SET reasons = list_append(checked.reasons, ${code})
      FROM (SELECT row_id FROM (SELECT row_id, count(*) OVER (PARTITION BY ${cols}) AS n FROM src WHERE ${present}) WHERE n > 1) d
      WHERE d.row_id = checked.row_id`);
  }

  await engine.run(`CREATE OR REPLACE TABLE classified AS
    WITH groups AS (
      SELECT pk_hash, count(DISTINCT content_hash) AS variants, min(row_id) AS first_row
      FROM checked WHERE pk_complete GROUP BY pk_hash HAVING count(*) > 1
    )
    SELECT c.row_id, c.pk_hash,
      CASE WHEN g.variants > 1 THEN 'quarantined'
           WHEN g.variants = 1 AND c.row_id <> g.first_row THEN 'collapsed'
           WHEN len(c.reasons) = 0 THEN 'clean'
           ELSE 'suspect' END AS disposition,
      CASE WHEN g.variants > 1 THEN ['pk:conflict']
           WHEN g.variants = 1 AND c.row_id <> g.first_row THEN ['pk:duplicate']
           ELSE c.reasons END AS reasons,
      CASE WHEN g.variants = 1 AND c.row_id <> g.first_row THEN g.first_row END AS duplicate_of
    FROM checked c LEFT JOIN groups g ON c.pk_complete AND g.pk_hash = c.pk_hash`);

  const byDisposition = await engine.rows<{ disposition: string; n: string }>(
    'SELECT disposition, count(*) AS n FROM classified GROUP BY disposition',
  );
  const count = (d: string) => Number(byDisposition.find((r) => r.disposition === d)?.n ?? 0);
  const [total] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM src');
  const reasonRows = await engine.rows<{ reason: string; n: string }>(
    `SELECT reason, count(*) AS n FROM (SELECT unnest(reasons) AS reason FROM classified WHERE disposition = 'suspect')
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

const PARQUET = `(FORMAT parquet, COMPRESSION zstd)`;

/** The contract's columns as their types over `src`; null tokens become NULL. */
function typedProjection(contract: Contract): string {
  return contract.columns
    .map((c) => `CASE WHEN ${isNullSql(c, contract)} THEN NULL ELSE ${typedSql(c)} END AS ${ident(c.name)}`)
    .join(', ');
}

/** Writes the classified rows as Parquet files (only those with rows); returns the paths written. */
export async function writeOutputs(
  engine: Engine,
  contract: Contract,
  counts: BouncerCounts,
  paths: { clean: string; suspect: string; quarantine: string },
): Promise<{ clean?: string; suspect?: string; quarantine?: string }> {
  const text = contract.columns.map((c) => ident(c.name)).join(', ');
  const from = `FROM src JOIN classified c USING (row_id)`;
  const written: { clean?: string; suspect?: string; quarantine?: string } = {};
  if (counts.clean > 0) {
    await engine.run(`COPY (SELECT row_id, c.pk_hash, t.* EXCLUDE (row_id)
      FROM (SELECT row_id, ${typedProjection(contract)} FROM src) t JOIN classified c USING (row_id)
      WHERE c.disposition = 'clean' ORDER BY row_id) TO ${literal(paths.clean)} ${PARQUET}`);
    written.clean = paths.clean;
  }
  if (counts.suspect > 0) {
    await engine.run(`COPY (SELECT row_id, c.pk_hash, c.reasons, ${text} ${from} WHERE c.disposition = 'suspect' ORDER BY row_id) TO ${literal(paths.suspect)} ${PARQUET}`);
    written.suspect = paths.suspect;
  }
  if (counts.quarantined + counts.duplicates_collapsed > 0) {
    await engine.run(`COPY (SELECT row_id, c.pk_hash, c.disposition, c.reasons, c.duplicate_of, ${text} ${from}
      WHERE c.disposition IN ('quarantined', 'collapsed') ORDER BY row_id) TO ${literal(paths.quarantine)} ${PARQUET}`);
    written.quarantine = paths.quarantine;
  }
  return written;
}
