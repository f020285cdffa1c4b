import { primaryKey, type Contract } from '../contract/contract.ts';
import { pkHashSql } from '../contract/pk-hash.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { computeDependencyEvidence } from '../evidence/dependency-evidence.ts';
import { dependencyRules } from '../evidence/dependency-rules.ts';
import { actingDependencies, discoverRules, domainReasons, type Discovered } from '../evidence/discover-rules.ts';
import { expressionRules, isNullSql, reasonList, rowRules, typedProjection, uniqueTests } from '../contract/rules-sql.ts';

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
  /** The batch-wide facts the verdicts used (given, or computed here). */
  facts: BatchFacts;
}

/**
 * Facts that need the whole batch, as engine tables (absent when empty): repeated primary keys
 * (`facts_repeated_keys`: key columns, `first_row`, `variants` = distinct contents) and rows
 * failing a `unique` test or contradicting a dependency's evidence (`facts_unique_reasons`: `row_id`,
 * `reasons`), and that evidence (`facts_evidence`, see lib/evidence). Computed over any
 * relation with `row_id` and the contract's columns: `src` for a whole file, or the whole file
 * once by the parent of a fanned-out batch, whose parts then load them.
 */
export interface BatchFacts {
  repeatedKeys: boolean;
  uniqueReasons: boolean;
  /** Dependency evidence (`facts_evidence`, see lib/evidence): groups whose rows disagree. */
  evidence: boolean;
  /** Domain outliers that act (`facts_domains`, see lib/evidence/discover-rules.ts). */
  domains?: boolean;
  /** What discovery found (reported, not loaded by fan-out parts). */
  discovered?: Discovered;
}

export async function computeBatchFacts(engine: Engine, contract: Contract, relation: string): Promise<BatchFacts> {
  const facts: BatchFacts = { repeatedKeys: false, uniqueReasons: false, evidence: false };
  const pk = primaryKey(contract);
  if (pk.length) {
    const keyList = pk.map((c) => ident(c.name)).join(', ');
    const complete = pk.map((c) => `NOT ${isNullSql(c, contract)}`).join(' AND ');
    const content = contract.columns.map((c) => `r.${ident(c.name)}`).join(', ');
    // Only the repeated keys are compared by content, so a file without duplicates pays one GROUP BY.
    await engine.run(`CREATE OR REPLACE TEMP TABLE facts_repeated_keys AS
      WITH repeated AS (SELECT ${keyList}, min(row_id) AS first_row FROM ${relation} WHERE ${complete} GROUP BY ${keyList} HAVING count(*) > 1)
      SELECT k.*, v.variants FROM repeated k JOIN (
        SELECT ${pk.map((c) => `r.${ident(c.name)}`).join(', ')}, count(DISTINCT [${content}]) AS variants
        FROM ${relation} r JOIN repeated USING (${keyList}) GROUP BY ${keyList}) v USING (${keyList})`);
    facts.repeatedKeys = await hasRows(engine, 'facts_repeated_keys');
  }
  const parts: string[] = [];
  for (const unique of uniqueTests(contract)) {
    const names = unique.map((n) => contract.columns.find((c) => c.name.toLowerCase() === n.toLowerCase())!);
    // A unique primary key is settled by the repeated-key rules instead.
    if (pk.length && names.length === pk.length && names.every((n) => n.primary_key)) continue;
    const cols = names.map((n) => ident(n.name)).join(', ');
    const present = names.map((n) => `NOT ${isNullSql(n, contract)}`).join(' AND ');
    parts.push(`SELECT row_id, ${literal(`${names.map((n) => n.name).join('+')}:unique`)} AS reason FROM (
      SELECT row_id, count(*) OVER (PARTITION BY ${cols}) AS n FROM ${relation} WHERE ${present}) WHERE n > 1`);
  }
  const discovered = await discoverRules(engine, contract, relation);
  facts.discovered = discovered;
  const evidence = await computeDependencyEvidence(engine, contract, relation, [
    ...dependencyRules(contract),
    ...actingDependencies(discovered),
  ]);
  facts.evidence = evidence.groups > 0;
  if (evidence.reasons > 0) parts.push('SELECT row_id, reason FROM dependency_reasons');
  if (discovered.domains.some((d) => d.acting) && (await domainReasons(engine, contract, relation)) > 0) {
    facts.domains = true;
    parts.push('SELECT row_id, reason FROM domain_reasons');
  }
  if (parts.length) {
    await engine.run(`CREATE OR REPLACE TEMP TABLE facts_unique_reasons AS
      SELECT row_id, list(reason ORDER BY reason) AS reasons FROM (${parts.join(' UNION ALL ')}) GROUP BY row_id`);
    facts.uniqueReasons = await hasRows(engine, 'facts_unique_reasons');
  }
  return facts;
}

async function hasRows(engine: Engine, table: string): Promise<boolean> {
  const [n] = await engine.rows<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(n?.n ?? 0) > 0;
}

export interface ClassifyOptions {
  /** Rows of the file before `src` (a part of a fanned-out batch); row ids stay file positions. */
  rowOffset?: number;
  /** Batch-wide facts already loaded (fan-out parts); computed from `src` when absent. */
  facts?: BatchFacts;
}

export async function classifyRows(engine: Engine, contract: Contract, options: ClassifyOptions = {}): Promise<BouncerResult> {
  const rowId = `(s.rowid + ${1 + (options.rowOffset ?? 0)})`;
  const facts = options.facts ?? (await computeBatchFacts(engine, contract, '(SELECT rowid + 1 AS row_id, * FROM src)'));
  const expressions = expressionRules(contract);
  let expressionReasons = false;
  if (expressions.length) {
    await engine.run(`CREATE OR REPLACE TEMP TABLE expression_reasons AS
      SELECT row_id, reasons FROM (
        SELECT ${rowId} AS row_id, ${reasonList(expressions)} AS reasons FROM (SELECT rowid, ${typedProjection(contract)} FROM src) s)
      WHERE len(reasons) > 0`);
    expressionReasons = await hasRows(engine, 'expression_reasons');
  }
  await engine.run(`CREATE OR REPLACE VIEW verdicts AS ${verdictsSql(contract, rowId, facts, expressionReasons)}`);

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
    facts,
  };
}

/**
 * Every row with its verdict, in file order. A row whose key repeats with other content is
 * quarantined (`pk:conflict`); a later copy of an identical row is collapsed onto the first
 * (`pk:duplicate`); otherwise the row is clean when it breaks no rule. Side tables are joined
 * only when they have rows. The reasons and the primary-key hash are worked out only where a
 * query reads them (the suspect and quarantine outputs), never for the clean lane.
 */
function verdictsSql(contract: Contract, rowId: string, facts: BatchFacts, expressionReasons: boolean): string {
  const lists = [`CASE WHEN "$bad" THEN ${reasonList(rowRules(contract))} ELSE []::VARCHAR[] END`];
  const flags = ['"$bad"'];
  const joins: string[] = [];
  const extra: string[] = [];
  if (expressionReasons) {
    joins.push(`LEFT JOIN expression_reasons x ON x.row_id = ${rowId}`);
    extra.push('x.reasons AS "$expression_reasons"');
    lists.push('COALESCE("$expression_reasons", []::VARCHAR[])');
    flags.push('"$expression_reasons" IS NOT NULL');
  }
  if (facts.uniqueReasons) {
    joins.push(`LEFT JOIN facts_unique_reasons u ON u.row_id = ${rowId}`);
    extra.push('u.reasons AS "$unique_reasons"');
    lists.push('COALESCE("$unique_reasons", []::VARCHAR[])');
    flags.push('"$unique_reasons" IS NOT NULL');
  }
  let key = 'NULL::VARCHAR';
  let firstRow = 'NULL::BIGINT';
  if (facts.repeatedKeys) {
    const on = primaryKey(contract)
      .map((c) => `k.${ident(c.name)} = s.${ident(c.name)}`)
      .join(' AND ');
    joins.push(`LEFT JOIN facts_repeated_keys k ON ${on}`);
    key = `CASE WHEN k.variants > 1 THEN 'quarantined' WHEN k.first_row IS NOT NULL AND ${rowId} <> k.first_row THEN 'collapsed' END`;
    firstRow = 'k.first_row';
  }
  const reasons = lists.length > 1 ? `list_concat(${lists.join(', ')})` : lists[0]!;
  return `SELECT row_id, ${pkHashSql(contract)} AS pk_hash,
      CASE key_verdict WHEN 'quarantined' THEN ['pk:conflict'] WHEN 'collapsed' THEN ['pk:duplicate'] ELSE ${reasons} END AS reasons,
      COALESCE(key_verdict, CASE WHEN ${flags.join(' OR ')} THEN 'suspect' ELSE 'clean' END) AS disposition,
      CASE WHEN key_verdict = 'collapsed' THEN first_row END AS duplicate_of,
      * EXCLUDE (row_id, key_verdict, first_row)
    FROM (
      SELECT ${rowId} AS row_id, ${key} AS key_verdict, ${firstRow} AS first_row, s.*${extra.map((e) => `, ${e}`).join('')}
      FROM src s ${joins.join(' ')}
    )
    ${joins.length ? 'ORDER BY row_id' : ''}`;
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
    // Clean rows are never changed, so they need no primary-key hash: the audit trail is keyed by the fixed ones.
    await copy(`row_id, ${typedProjection(contract)}`, `disposition = 'clean'`, paths.clean);
    written.clean = paths.clean;
  }
  if (counts.suspect > 0) {
    await copy(`row_id, pk_hash, reasons, ${text}`, `disposition = 'suspect'`, paths.suspect);
    written.suspect = paths.suspect;
  }
  if (counts.quarantined + counts.duplicates_collapsed > 0) {
    await copy(
      `row_id, pk_hash, disposition, reasons, duplicate_of, ${text}`,
      `disposition IN ('quarantined', 'collapsed')`,
      paths.quarantine,
    );
    written.quarantine = paths.quarantine;
  }
  return written;
}
