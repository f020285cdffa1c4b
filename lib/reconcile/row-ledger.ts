import type { Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { anyRuleFails, expressionRules, rowRules, typedProjection, withTypedColumns } from '../contract/rules-sql.ts';

/**
 * The batch's rows by lane, in the engine, from the objects every step wrote:
 * - `patched`: each suspect row with its staged cell fixes applied (text), unless any of its
 *   cells was quarantined or got two different fixes (`conflicting_fixes`); `$still_fails` when
 *   the patched row breaks a rule of the contract (internal names start with `$`, which a
 *   contract's column names cannot);
 * - `ledger(row_id, lane)`: clean, fixed or quarantined — every source row must be in it once;
 * - `quarantine_reasons(row_id, pk_hash, reason, cluster)`: why each quarantined row is;
 * - `fixed_typed`: the fixed rows as the contract's types, ready to join the clean lane;
 * - `identity_mismatches(row_id)`: rows that a staged fix, a quarantined cell or an audit change
 *   names by a `(row_id, pk_hash)` that is no suspect row's (see identityMismatchSql).
 */
export interface LaneFiles {
  /** The ingest step's clean lane (typed, `row_id`). */
  clean: string[];
  /** The ingest step's suspect rows (`row_id`, `pk_hash`, reasons, the text of every column). */
  suspect: string[];
  /** Rows the ingest step set aside (`pk:conflict`, `pk:duplicate`). */
  ingestQuarantine: string[];
  /** The remediate steps' staged cell fixes (`row_id`, `pk_hash`, `column_name`, old and new value). */
  staged: string[];
  /** The remediate steps' quarantined cells (`row_id`, `pk_hash`, `column_name`, value, reason, cluster). */
  quarantinedCells: string[];
  /** The remediate steps' audit parts (one changed cell each, with its `row_id` and `pk_hash`). */
  auditParts: string[];
}

const files = (paths: string[]) => `[${paths.map(literal).join(', ')}]`;

async function tableFrom(engine: Engine, name: string, paths: string[], empty: string): Promise<void> {
  await engine.run(
    paths.length
      ? `CREATE OR REPLACE TABLE ${name} AS SELECT * FROM read_parquet(${files(paths)})`
      : `CREATE OR REPLACE TABLE ${name} AS ${empty}`,
  );
}

/** Builds every table of the ledger (see LaneFiles) from the lanes' Parquet files. */
export async function buildLedger(engine: Engine, contract: Contract, lanes: LaneFiles): Promise<void> {
  await loadLanes(engine, contract, lanes);
  await engine.run(`CREATE OR REPLACE TABLE identity_mismatches AS ${identityMismatchSql()}`);
  await patchSuspectRows(engine, contract);
  await assignLanes(engine);
}

async function loadLanes(engine: Engine, contract: Contract, lanes: LaneFiles): Promise<void> {
  const textColumns = contract.columns.map((c) => `NULL::VARCHAR AS ${ident(c.name)}`).join(', ');
  await tableFrom(
    engine,
    'suspect',
    lanes.suspect,
    `SELECT NULL::BIGINT AS row_id, NULL::VARCHAR AS pk_hash, NULL::VARCHAR[] AS reasons, ${textColumns} WHERE false`,
  );
  await tableFrom(
    engine,
    'staged',
    lanes.staged,
    'SELECT NULL::BIGINT AS row_id, NULL::VARCHAR AS pk_hash, NULL::VARCHAR AS column_name, NULL::VARCHAR AS old_value, NULL::VARCHAR AS new_value WHERE false',
  );
  await tableFrom(
    engine,
    'quarantined_cells',
    lanes.quarantinedCells,
    'SELECT NULL::BIGINT AS row_id, NULL::VARCHAR AS pk_hash, NULL::VARCHAR AS column_name, NULL::VARCHAR AS value, NULL::VARCHAR AS reason, NULL::VARCHAR AS cluster WHERE false',
  );
  await tableFrom(
    engine,
    'ingest_quarantine',
    lanes.ingestQuarantine,
    'SELECT NULL::BIGINT AS row_id, NULL::VARCHAR AS pk_hash, NULL::VARCHAR AS disposition, NULL::VARCHAR[] AS reasons WHERE false',
  );
  await tableFrom(engine, 'clean_rows', lanes.clean, `SELECT NULL::BIGINT AS row_id WHERE false`);
  await engine.run(
    lanes.auditParts.length
      ? `CREATE OR REPLACE TABLE audit_identities AS SELECT row_id, pk_hash FROM read_parquet(${files(lanes.auditParts)}, union_by_name = true)`
      : 'CREATE OR REPLACE TABLE audit_identities AS SELECT NULL::BIGINT AS row_id, NULL::VARCHAR AS pk_hash WHERE false',
  );
}

/**
 * Law 4, distinct records never merge: a fix is joined to its row by `row_id`, so the row it
 * names must also carry the same `pk_hash`. Every `(row_id, pk_hash)` of a staged fix, a
 * quarantined cell or an audit change that is no suspect row's is a mismatch (a NULL hash too);
 * the row ids are what the ledger check reports.
 */
function identityMismatchSql(): string {
  return `SELECT DISTINCT row_id FROM (
      SELECT row_id, pk_hash FROM staged
      UNION ALL SELECT row_id, pk_hash FROM quarantined_cells
      UNION ALL SELECT row_id, pk_hash FROM audit_identities)
    ANTI JOIN suspect USING (row_id, pk_hash)`;
}

/** `patched`: suspect rows with their fixes applied and checked against every rule again; `fixed_typed`: those that pass. */
async function patchSuspectRows(engine: Engine, contract: Contract): Promise<void> {
  // One row per suspect row: which columns a fix changed, and to what (a fix may set NULL).
  const pivot = contract.columns
    .map(
      (c, i) =>
        `bool_or(column_name = ${literal(c.name)}) AS "$has${i}", any_value(new_value) FILTER (WHERE column_name = ${literal(c.name)}) AS "$new${i}"`,
    )
    .join(', ');
  const patchedColumns = contract.columns
    .map((c, i) => `CASE WHEN p."$has${i}" THEN p."$new${i}" ELSE s.${ident(c.name)} END AS ${ident(c.name)}`)
    .join(', ');
  // One cell fixed by two clusters (it broke two rules) with different values: no fix is trusted.
  await engine.run(`CREATE OR REPLACE TABLE conflicting_fixes AS
    SELECT DISTINCT row_id FROM staged GROUP BY row_id, column_name HAVING count(DISTINCT COALESCE(new_value, chr(0))) > 1`);
  await engine.run(`CREATE OR REPLACE TABLE patched_text AS
    SELECT s.row_id, s.pk_hash, ${patchedColumns}
    FROM (SELECT * FROM suspect ANTI JOIN quarantined_cells USING (row_id) ANTI JOIN conflicting_fixes USING (row_id)) s
    LEFT JOIN (SELECT row_id, ${pivot} FROM staged SEMI JOIN suspect USING (row_id, pk_hash) GROUP BY row_id) p USING (row_id)`);
  // A patched row must now pass every rule, its expression tests included (they see typed values).
  const rules = rowRules(contract);
  const expressions = expressionRules(contract);
  await engine.run(`CREATE OR REPLACE TABLE patched AS
    SELECT t.*, ${anyRuleFails(rules)} AS "$cell_fails" FROM (${withTypedColumns(contract, 'SELECT * FROM patched_text')}) t`);
  await engine.run(`CREATE OR REPLACE TABLE patched AS
    SELECT p.*, p."$cell_fails" OR COALESCE(e."$expr_fails", false) AS "$still_fails" FROM patched p
    LEFT JOIN (SELECT row_id, ${anyRuleFails(expressions)} AS "$expr_fails" FROM (SELECT row_id, ${typedProjection(contract)} FROM patched)) e USING (row_id)`);
  await engine.run(
    `CREATE OR REPLACE TABLE fixed_typed AS SELECT row_id, ${typedProjection(contract)} FROM patched WHERE NOT "$still_fails"`,
  );
}

/** `ledger`: every row id with its lane; `quarantine_reasons`: why each quarantined row is. */
async function assignLanes(engine: Engine): Promise<void> {
  await engine.run(`CREATE OR REPLACE TABLE ledger AS
    SELECT row_id, 'clean' AS lane FROM clean_rows
    UNION ALL SELECT row_id, CASE WHEN "$still_fails" THEN 'quarantined' ELSE 'fixed' END FROM patched
    UNION ALL SELECT DISTINCT row_id, 'quarantined' FROM quarantined_cells
    UNION ALL SELECT row_id, 'quarantined' FROM conflicting_fixes ANTI JOIN quarantined_cells USING (row_id)
    UNION ALL SELECT row_id, 'quarantined' FROM ingest_quarantine`);
  // Why each quarantined row is quarantined, one row per reason: the audit and the counts read it.
  await engine.run(`CREATE OR REPLACE TABLE quarantine_reasons AS
    SELECT row_id, pk_hash, reason, cluster FROM quarantined_cells
    UNION ALL SELECT row_id, pk_hash, 'still-fails-after-fix', NULL FROM patched WHERE "$still_fails"
    UNION ALL SELECT row_id, pk_hash, 'conflicting-fixes', NULL FROM suspect SEMI JOIN conflicting_fixes USING (row_id)
    UNION ALL SELECT row_id, pk_hash, CASE disposition WHEN 'collapsed' THEN 'pk:duplicate' ELSE 'pk:conflict' END, NULL FROM ingest_quarantine`);
}

/** The ledger's verdict: rows per lane and every row id that breaks law 4 or 5 (each list cut at 100, see `problems`). */
export interface LedgerCheck {
  counts: { source: number; clean: number; fixed: number; quarantined: number };
  /** Source row ids in no lane. */
  missing: number[];
  /** Row ids in more than one lane (or twice in one). */
  duplicated: number[];
  /** Row ids in a lane that are no source row's. */
  unexpected: number[];
  /** Row ids a staged fix, quarantined cell or audit change names with a `pk_hash` other than the row's. */
  mismatched: number[];
  /** How many ids each list holds in full. */
  problems: { missing: number; duplicated: number; unexpected: number; mismatched: number };
}

/** Whether the ledger found any row id missing, duplicated, unknown or with a mismatched identity. */
export function ledgerFailed(check: LedgerCheck): boolean {
  return Object.values(check.problems).some((n) => n > 0);
}

const SHOWN = 100;

/**
 * Every source row id 1..source exactly once across the lanes (counts alone could balance while
 * rows were swapped), and every fix on the row whose identity it names.
 */
export async function checkLedger(engine: Engine, source: number): Promise<LedgerCheck> {
  const ids = async (sql: string) =>
    (await engine.rows<{ row_id: string }>(`${sql} ORDER BY row_id LIMIT ${SHOWN}`)).map((r) => Number(r.row_id));
  const count = async (sql: string) => Number((await engine.rows<{ n: string }>(`SELECT count(*) AS n FROM (${sql})`))[0]?.n ?? 0);
  const expected = `SELECT range AS row_id FROM range(1, ${source + 1})`;
  const missing = `SELECT row_id FROM (${expected}) ANTI JOIN ledger USING (row_id)`;
  const duplicated = 'SELECT row_id FROM ledger GROUP BY row_id HAVING count(*) > 1';
  const unexpected = `SELECT row_id FROM ledger ANTI JOIN (${expected}) e USING (row_id)`;
  const mismatched = 'SELECT row_id FROM identity_mismatches';
  const lanes = await engine.rows<{ lane: string; n: string }>('SELECT lane, count(DISTINCT row_id) AS n FROM ledger GROUP BY lane');
  const lane = (name: string) => Number(lanes.find((l) => l.lane === name)?.n ?? 0);
  return {
    counts: { source, clean: lane('clean'), fixed: lane('fixed'), quarantined: lane('quarantined') },
    missing: await ids(missing),
    duplicated: await ids(duplicated),
    unexpected: await ids(unexpected),
    mismatched: await ids(mismatched),
    problems: {
      missing: await count(missing),
      duplicated: await count(duplicated),
      unexpected: await count(unexpected),
      mismatched: await count(mismatched),
    },
  };
}
