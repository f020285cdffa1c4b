import type { Column, Contract } from '../contract/contract.ts';
import { isNullSql, rowRules, withTypedColumns } from '../contract/rules-sql.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { dependencyRules, type DependencyRule } from './dependency-rules.ts';

/**
 * Evidence of a batch's dependencies, from the batch's own rows (never from labels), in set
 * operations. Every row whose dependent value is valid votes for it in its determinant group; with a
 * `source` column each vote weighs as much as its source's measured agreement with the groups'
 * winners elsewhere (a few rounds of reweighting, as truth discovery does), otherwise one.
 *
 * Per group the winner is the value with the most votes (ties: the smaller text). It is acted on
 * (`strong`) only when at least `min_support` rows carry it, it holds `min_share` of the votes and,
 * with sources, a source that agrees with the consensus in at least RELIABLE_WITNESS of its reports
 * vouches for it and no rival value has as reliable a witness. Then every row that disagrees (a
 * different value, an invalid one, or none where the column needs one) is suspect
 * `<dependent>:dependency`. A group that disagrees but is not strong is contested: its rows with a
 * valid but different value (in a tie, every row with a value) are suspect
 * `<dependent>:dependency-contested`, for a person.
 *
 * With table `history_votes` loaded (the stream's profile), the curated history votes too.
 *
 * Tables written: `facts_evidence` (one row per group with any disagreement: see EVIDENCE_COLUMNS)
 * and `dependency_reasons` (`row_id`, `reason`).
 */
export const RELIABLE_WITNESS = 0.9;
/** Rounds of source reweighting: the weights settle within a few on the benchmark tables. */
export const REWEIGHT_ROUNDS = 8;
/** The separator of a group key's parts (a determinant value holding it has no group). */
export const KEY_SEPARATOR = '\u001f';

/** The columns of `facts_evidence`, in order. */
export const EVIDENCE_COLUMNS = [
  'dependency',
  'dependent',
  'group_key',
  'dominant',
  'support',
  'share',
  'runner_up',
  'runner_up_support',
  'margin',
  'witness',
  'rival_witness',
  'rows',
  'disagreeing',
  'strong',
] as const;

/** Whether the batch had any evidence (and so `facts_evidence` rows) and any dependency reasons. */
export interface DependencyEvidence {
  groups: number;
  reasons: number;
}

const column = (contract: Contract, name: string): Column => contract.columns.find((c) => c.name.toLowerCase() === name.toLowerCase())!;

/** SQL of a group key from the determinant columns (NULL when one is missing or holds the separator). */
export function groupKeySql(contract: Contract, determinant: string[]): string {
  const cols = determinant.map((n) => column(contract, n));
  const missing = cols.map((c) => `${isNullSql(c, contract)} OR contains(${ident(c.name)}, chr(31))`).join(' OR ');
  return `CASE WHEN ${missing} THEN NULL ELSE concat_ws(chr(31), ${cols.map((c) => ident(c.name)).join(', ')}) END`;
}

/** The claims of one rule: each row's group, source and (valid) dependent value. */
function claimsSql(contract: Contract, rule: DependencyRule): string {
  const dep = column(contract, rule.dependent);
  const fails = rowRules(contract)
    .filter((r) => r.code.startsWith(`${dep.name}:`))
    .map((r) => `(${r.fails})`);
  const valid = `NOT ${isNullSql(dep, contract)}${fails.length ? ` AND NOT ((${fails.join(' OR ')}) IS TRUE)` : ''}`;
  const source = rule.source
    ? `${literal(`${rule.source}${KEY_SEPARATOR}`)} || COALESCE(${ident(column(contract, rule.source).name)}, '')`
    : 'NULL';
  return `SELECT ${literal(rule.id)} AS dependency, ${literal(dep.name)} AS dependent, row_id,
      ${groupKeySql(contract, rule.determinant)} AS group_key, ${source} AS source,
      CASE WHEN ${valid} THEN ${ident(dep.name)} END AS value,
      ${isNullSql(dep, contract)} AS missing, ${dep.nullable} AS nullable,
      ${rule.min_support} AS min_support, ${rule.min_share} AS min_share
    FROM ev_rows`;
}

/**
 * Computes the evidence of the contract's dependencies over `relation` (any relation with `row_id`
 * and the contract's columns as text) into `facts_evidence` and `dependency_reasons`.
 */
export async function computeDependencyEvidence(
  engine: Engine,
  contract: Contract,
  relation: string,
  rules: DependencyRule[] = dependencyRules(contract),
): Promise<DependencyEvidence> {
  if (rules.length === 0) return { groups: 0, reasons: 0 };
  const cols = contract.columns.map((c) => ident(c.name)).join(', ');
  await engine.run(`CREATE OR REPLACE TEMP TABLE ev_rows AS ${withTypedColumns(contract, `SELECT row_id, ${cols} FROM ${relation}`)}`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE ev_claims AS
    SELECT * FROM (${rules.map((r) => claimsSql(contract, r)).join(' UNION ALL ')}) WHERE group_key IS NOT NULL`);
  await engine.run('DROP TABLE ev_rows');
  await reweightSources(engine);
  // The stream's curated history (lib/evidence/stream-profile.ts), when loaded: one vote per row it promoted.
  const history = (await hasTable(engine, 'history_votes'))
    ? `UNION ALL SELECT dependency, group_key, value, n, n * 1.0 AS votes, NULL::DOUBLE AS witness FROM history_votes
       WHERE dependency IN (${rules.map((r) => literal(r.id)).join(', ')})`
    : '';
  await engine.run(`CREATE OR REPLACE TEMP TABLE ev_votes AS
    SELECT dependency, group_key, value, sum(n) AS n, sum(votes) AS votes, max(witness) AS witness FROM (
      SELECT dependency, group_key, value, count(*) AS n, sum(COALESCE(w.weight, 1.0)) AS votes, max(w.reliability) AS witness
      FROM ev_claims c LEFT JOIN ev_weights w USING (source) WHERE value IS NOT NULL GROUP BY ALL
      ${history})
    GROUP BY ALL`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE facts_evidence AS
    WITH ranked AS (
      SELECT *, row_number() OVER (PARTITION BY dependency, group_key ORDER BY votes DESC, value) AS rank,
        sum(votes) OVER (PARTITION BY dependency, group_key) AS total
      FROM ev_votes),
    groups AS (
      SELECT dependency, group_key,
        any_value(value) FILTER (WHERE rank = 1) AS dominant,
        any_value(n) FILTER (WHERE rank = 1) AS support,
        any_value(votes / total) FILTER (WHERE rank = 1) AS share,
        any_value(value) FILTER (WHERE rank = 2) AS runner_up,
        COALESCE(any_value(n) FILTER (WHERE rank = 2), 0) AS runner_up_support,
        (any_value(votes) FILTER (WHERE rank = 1) - COALESCE(any_value(votes) FILTER (WHERE rank = 2), 0)) / any_value(total) AS margin,
        any_value(witness) FILTER (WHERE rank = 1) AS witness,
        max(witness) FILTER (WHERE rank > 1) AS rival_witness
      FROM ranked GROUP BY ALL),
    counted AS (
      SELECT c.dependency, any_value(c.dependent) AS dependent, c.group_key, count(*) AS rows,
        count(*) FILTER (WHERE c.value IS DISTINCT FROM g.dominant AND NOT (c.missing AND c.nullable)) AS disagreeing,
        any_value(c.min_support) AS min_support, any_value(c.min_share) AS min_share, bool_or(c.source IS NOT NULL) AS weighted
      FROM ev_claims c JOIN groups g USING (dependency, group_key) GROUP BY c.dependency, c.group_key)
    SELECT dependency, dependent, group_key, dominant, support, share, runner_up, runner_up_support,
      margin, witness, rival_witness, rows, disagreeing,
      support >= min_support AND share >= min_share
        AND (NOT weighted OR (witness >= ${RELIABLE_WITNESS} AND witness > COALESCE(rival_witness, 0))) AS strong
    FROM groups JOIN counted USING (dependency, group_key)
    WHERE disagreeing > 0
    ORDER BY dependency, group_key`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE dependency_reasons AS
    SELECT DISTINCT c.row_id, c.dependent || CASE WHEN e.strong THEN ':dependency' ELSE ':dependency-contested' END AS reason
    FROM ev_claims c JOIN facts_evidence e USING (dependency, group_key)
    WHERE NOT (c.missing AND c.nullable) AND (
      (e.strong AND c.value IS DISTINCT FROM e.dominant)
      -- In a tie no value is the dominant one: every row with a value goes to a person.
      OR (NOT e.strong AND c.value IS NOT NULL AND (c.value <> e.dominant OR e.margin = 0)))`);
  for (const t of ['ev_claims', 'ev_votes', 'ev_weights']) await engine.run(`DROP TABLE IF EXISTS ${t}`);
  const [n] = await engine.rows<{ groups: string; reasons: string }>(
    'SELECT (SELECT count(*) FROM facts_evidence) AS groups, (SELECT count(*) FROM dependency_reasons) AS reasons',
  );
  return { groups: Number(n?.groups ?? 0), reasons: Number(n?.reasons ?? 0) };
}

async function hasTable(engine: Engine, name: string): Promise<boolean> {
  const [row] = await engine.rows<{ n: string }>(`SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = ${literal(name)}`);
  return Number(row?.n ?? 0) > 0;
}

/**
 * `ev_weights` (`source`, `weight`, `reliability`): each source's agreement with the groups'
 * winners (Laplace-smoothed, at most 0.99) and its weight, the log-odds of that agreement (at
 * least 0.01), after REWEIGHT_ROUNDS rounds that start from equal weights.
 */
async function reweightSources(engine: Engine): Promise<void> {
  await engine.run(`CREATE OR REPLACE TEMP TABLE ev_weights AS
    SELECT DISTINCT source, 1.0::DOUBLE AS weight, NULL::DOUBLE AS reliability FROM ev_claims WHERE source IS NOT NULL`);
  const [any] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM ev_weights');
  if (Number(any?.n ?? 0) === 0) return;
  for (let round = 0; round < REWEIGHT_ROUNDS; round++) {
    await engine.run(`CREATE OR REPLACE TEMP TABLE ev_weights AS
      WITH scored AS (
        SELECT dependency, group_key, value, sum(w.weight) AS votes
        FROM ev_claims c JOIN ev_weights w USING (source) WHERE value IS NOT NULL GROUP BY ALL),
      winners AS (
        SELECT dependency, group_key, value FROM (
          SELECT *, row_number() OVER (PARTITION BY dependency, group_key ORDER BY votes DESC, value) AS rank FROM scored)
        WHERE rank = 1),
      agreement AS (
        SELECT c.source, least((count(*) FILTER (WHERE c.value = t.value) + 1.0) / (count(*) + 2.0), 0.99) AS reliability
        FROM ev_claims c JOIN winners t USING (dependency, group_key) WHERE c.value IS NOT NULL GROUP BY c.source)
      SELECT w.source, greatest(ln(a.reliability / (1 - a.reliability)), 0.01) AS weight, a.reliability
      FROM ev_weights w JOIN agreement a USING (source)`);
  }
}
