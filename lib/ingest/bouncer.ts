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
 * The verdicts live in the narrow table `classified`, row for row beside `src` (same order),
 * so the outputs read both with a positional join instead of a keyed one.
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
const reasonList = (rules: Array<{ code: string; fails: string }>) =>
  `list_filter(${listOf(rules.map((r) => `CASE WHEN ${r.fails} THEN ${literal(r.code)} END`))}, x -> x IS NOT NULL)`;

/** SHA-256 of the primary key's text (one column: its value; several: their JSON array); the whole row without one. */
export function pkHashSql(contract: Contract): string {
  const pk = primaryKey(contract);
  if (pk.length === 1) return `sha256(COALESCE(${ident(pk[0]!.name)}, ''))`;
  const columns = (pk.length ? pk : contract.columns).map((c) => ident(c.name)).join(', ');
  return `sha256(to_json([${columns}]))`;
}

export async function classifyRows(engine: Engine, contract: Contract): Promise<BouncerResult> {
  // Built in src's order (insertion order is preserved), which the positional join relies on.
  await engine.run(`CREATE OR REPLACE TABLE classified AS
    SELECT rowid + 1 AS row_id, pk_hash, reasons, CASE WHEN len(reasons) = 0 THEN 'clean' ELSE 'suspect' END AS disposition,
           NULL::BIGINT AS duplicate_of
    FROM (SELECT rowid, ${pkHashSql(contract)} AS pk_hash, ${reasonList(rowRules(contract))} AS reasons FROM src)`);

  // Expression tests see typed values, so they run over a typed projection of src.
  const expressions = expressionRules(contract);
  if (expressions.length) {
    await engine.run(`UPDATE classified SET reasons = list_concat(classified.reasons, e.reasons), disposition = 'suspect'
      FROM (SELECT rowid + 1 AS row_id, ${reasonList(expressions)} AS reasons FROM (SELECT rowid, ${typedProjection(contract)} FROM src)) e
      WHERE e.row_id = classified.row_id AND len(e.reasons) > 0`);
  }

  // unique tests beyond the primary key: every row of a repeated combination is suspect.
  const pk = primaryKey(contract);
  // UPDATEs may move rows within the table; the positional join needs file order back.
  let moved = expressions.length > 0;
  for (const unique of uniqueTests(contract)) {
    const names = unique.map((n) => contract.columns.find((c) => c.name.toLowerCase() === n.toLowerCase())!);
    if (pk.length && names.length === pk.length && names.every((n) => n.primary_key)) continue;
    moved = true;
    const cols = names.map((n) => ident(n.name)).join(', ');
    const present = names.map((n) => `NOT ${isNullSql(n, contract)}`).join(' AND ');
    await engine.run(`UPDATE classified SET reasons = list_append(classified.reasons, ${literal(`${names.map((n) => n.name).join('+')}:unique`)}),
        disposition = 'suspect'
      FROM (SELECT row_id FROM (SELECT rowid + 1 AS row_id, count(*) OVER (PARTITION BY ${cols}) AS n FROM src WHERE ${present}) WHERE n > 1) d
      WHERE d.row_id = classified.row_id`);
  }

  if (pk.length && (await settleDuplicateKeys(engine, contract))) moved = true;
  if (moved) await engine.run('CREATE OR REPLACE TABLE classified AS SELECT * FROM classified ORDER BY row_id');

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

/**
 * Rows whose (complete) primary key repeats: when every copy has the same content, the first
 * stays and the others are collapsed onto it; when the copies differ, all are quarantined.
 * Only the repeated keys are compared by content, so a file without duplicates pays one GROUP BY.
 */
async function settleDuplicateKeys(engine: Engine, contract: Contract): Promise<boolean> {
  const pk = primaryKey(contract).map((c) => ident(c.name));
  const keyList = pk.join(', ');
  const complete = primaryKey(contract).map((c) => `NOT ${isNullSql(c, contract)}`).join(' AND ');
  const everything = contract.columns.map((c) => ident(c.name)).join(', ');
  await engine.run(`CREATE OR REPLACE TEMP TABLE repeated_keys AS
    SELECT ${keyList}, min(rowid) + 1 AS first_row FROM src WHERE ${complete} GROUP BY ${keyList} HAVING count(*) > 1`);
  const [repeated] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM repeated_keys');
  if (Number(repeated?.n ?? 0) === 0) return false;
  await engine.run(`CREATE OR REPLACE TEMP TABLE repeated_rows AS
    WITH rows AS (SELECT s.rowid + 1 AS row_id, k.first_row, [${everything.split(', ').map((c) => `s.${c}`).join(', ')}] AS content, ${pk.map((c) => `s.${c}`).join(', ')}
                  FROM src s JOIN repeated_keys k USING (${keyList})),
         variants AS (SELECT ${keyList}, count(DISTINCT content) AS n FROM rows GROUP BY ${keyList})
    SELECT r.row_id, r.first_row, v.n AS variants FROM rows r JOIN variants v USING (${keyList})`);
  await engine.run(`UPDATE classified SET
      disposition = CASE WHEN d.variants > 1 THEN 'quarantined' ELSE 'collapsed' END,
      reasons = CASE WHEN d.variants > 1 THEN ['pk:conflict'] ELSE ['pk:duplicate'] END,
      duplicate_of = CASE WHEN d.variants > 1 THEN NULL ELSE d.first_row END
    FROM repeated_rows d
    WHERE d.row_id = classified.row_id AND (d.variants > 1 OR d.row_id <> d.first_row)`);
  return true;
}

/** The contract's columns as their types over `src`; empty values and null tokens become NULL. */
function typedProjection(contract: Contract): string {
  return contract.columns
    .map((c) => {
      const typed = typedSql(c);
      // A failed cast is already NULL; only text-typed columns need nulls spelled out.
      const value = typed === ident(c.name) ? `CASE WHEN ${isNullSql(c, contract)} THEN NULL ELSE ${typed} END` : typed;
      return `${value} AS ${ident(c.name)}`;
    })
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
  // src and classified hold the same rows in the same order: a positional join lines them up.
  const written: { clean?: string; suspect?: string; quarantine?: string } = {};
  const copy = (select: string, where: string, path: string) =>
    engine.run(`COPY (SELECT ${select} FROM src POSITIONAL JOIN classified WHERE ${where}) TO ${literal(path)} (FORMAT parquet)`);
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
