import { primaryKey, type Contract } from '../contract/contract.ts';
import { isNullSql } from '../contract/rules-sql.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { DEFAULT_MIN_SHARE, DEFAULT_MIN_SUPPORT, dependencyId, type DependencyRule } from './dependency-rules.ts';

/**
 * Discovery: rules that hold strongly in the batch without being declared. Always computed and
 * reported (`reports/<batch>/discovered.json`), so an operator can adopt one into the contract;
 * acting (flagging rows) only where the contract's `discover` allows it.
 *
 * - An approximate dependency `a -> b`: in the groups of `a` with at least two rows, the dominant
 *   `b` covers at least DISCOVER_AGREEMENT of the rows, those groups hold at least
 *   DISCOVER_COVERAGE of the rows, `a` repeats (at most half as many values as rows) and `b` is not
 *   nearly constant (anything determines a constant).
 * - A value domain: a column whose values repeat; a value with at most DOMAIN_RARE_ROWS rows that is
 *   one edit (or only case and spacing) from exactly one value with at least DOMAIN_FREQUENT_ROWS
 *   rows and DOMAIN_RATIO times as many, with the same digits in the same order (a digit is
 *   meaning, not spelling), is an outlier, suspect `<column>:domain` where allowed.
 *
 * Both are found on the batch's first DISCOVERY_ROWS rows (bounded work whatever the file's size).
 *
 * Tables written: `facts_domains` (`column_name`, `value`, `nearest`, `value_rows`, `nearest_rows`)
 * and `domain_reasons` (`row_id`, `reason`), the latter only when domains may act.
 */
export const DISCOVERY_ROWS = 5_000;
export const DISCOVER_AGREEMENT = 0.95;
export const DISCOVER_COVERAGE = 0.5;
export const DOMAIN_RARE_ROWS = 2;
export const DOMAIN_FREQUENT_ROWS = 5;
export const DOMAIN_RATIO = 10;
/** At most this many discovered dependencies are reported (the strongest first). */
export const MAX_DISCOVERED = 50;

export interface DiscoveredDependency {
  id: string;
  determinant: string[];
  dependent: string;
  agreement: number;
  coverage: number;
  groups: number;
  /** Whether it flags rows (the contract allows discovered dependencies and declares none on this pair). */
  acting: boolean;
}

export interface DiscoveredDomain {
  column: string;
  frequent_values: number;
  outlier_values: number;
  outlier_rows: number;
  acting: boolean;
}

export interface Discovered {
  dependencies: DiscoveredDependency[];
  domains: DiscoveredDomain[];
}

const round = (x: number) => Number(x.toFixed(4));

/** Discovers dependencies and domains over `relation` (`row_id` and the contract's columns as text); see the module comment. */
export async function discoverRules(engine: Engine, contract: Contract, relation: string): Promise<Discovered> {
  const keyNames = new Set(primaryKey(contract).map((c) => c.name));
  const cols = contract.columns.filter((c) => !keyNames.has(c.name));
  if (cols.length < 1) return { dependencies: [], domains: [] };
  const present = cols.map((c) => `CASE WHEN ${isNullSql(c, contract)} THEN NULL ELSE ${ident(c.name)} END AS ${ident(c.name)}`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE dv_long AS
    SELECT row_id, col, val FROM (SELECT row_id, ${present.join(', ')} FROM ${relation} WHERE row_id <= ${DISCOVERY_ROWS})
    UNPIVOT (val FOR col IN (${cols.map((c) => ident(c.name)).join(', ')}))`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE dv_stats AS
    SELECT col, sum(n) AS rows, count(*) AS values, max(n) AS top FROM (SELECT col, val, count(*) AS n FROM dv_long GROUP BY ALL) GROUP BY col`);
  const dependencies = await discoverDependencies(engine, contract);
  const domains = await discoverDomains(engine, contract);
  await engine.run('DROP TABLE IF EXISTS dv_long');
  await engine.run('DROP TABLE IF EXISTS dv_stats');
  return { dependencies, domains };
}

async function discoverDependencies(engine: Engine, contract: Contract): Promise<DiscoveredDependency[]> {
  const rows = await engine.rows<{ det: string; dep: string; agreement: number; coverage: number; groups: string }>(`
    WITH sample AS (SELECT * FROM dv_long),
    dets AS (SELECT col FROM dv_stats WHERE values >= 2 AND values * 2 <= rows),
    deps AS (SELECT col FROM dv_stats WHERE values >= 2 AND top < ${DISCOVER_AGREEMENT} * rows),
    pairs AS (
      SELECT a.col AS det, b.col AS dep, a.val AS k, b.val AS v, count(*) AS c
      FROM sample a JOIN sample b USING (row_id)
      WHERE a.col IN (SELECT col FROM dets) AND b.col IN (SELECT col FROM deps) AND a.col <> b.col GROUP BY ALL),
    grouped AS (SELECT det, dep, k, sum(c) AS n, max(c) AS top FROM pairs GROUP BY ALL),
    totals AS (SELECT col, count(*) AS rows FROM sample GROUP BY col)
    SELECT det, dep, sum(top) / sum(n) AS agreement, sum(n) / any_value(t.rows) AS coverage, count(*) AS groups
    FROM grouped g JOIN totals t ON t.col = g.det WHERE n >= 2 GROUP BY det, dep
    HAVING sum(top) >= ${DISCOVER_AGREEMENT} * sum(n) AND sum(n) >= ${DISCOVER_COVERAGE} * any_value(t.rows) AND count(*) >= 2
    ORDER BY agreement DESC, coverage DESC, det, dep LIMIT ${MAX_DISCOVERED}`);
  const declared = new Set(
    contract.tests.flatMap((t) => (t.type === 'dependency' ? [`${t.determinant.join('+')}->${t.dependent}`.toLowerCase()] : [])),
  );
  const allowed = contract.discover?.dependencies === true;
  return rows.map((r) => {
    const id = dependencyId([r.det], r.dep);
    return {
      id,
      determinant: [r.det],
      dependent: r.dep,
      agreement: round(Number(r.agreement)),
      coverage: round(Number(r.coverage)),
      groups: Number(r.groups),
      acting: allowed && !declared.has(id.toLowerCase()),
    };
  });
}

async function discoverDomains(engine: Engine, contract: Contract): Promise<DiscoveredDomain[]> {
  const normal = (v: string) => `lower(trim(regexp_replace(${v}, '\\s+', ' ', 'g')))`;
  await engine.run(`CREATE OR REPLACE TEMP TABLE facts_domains AS
    WITH freq AS (
      SELECT col, val, count(*) AS n FROM dv_long WHERE col IN (SELECT col FROM dv_stats WHERE values * 2 <= rows) GROUP BY ALL),
    rare AS (SELECT * FROM freq WHERE n <= ${DOMAIN_RARE_ROWS}),
    frequent AS (SELECT * FROM freq WHERE n >= ${DOMAIN_FREQUENT_ROWS}),
    near AS (
      SELECT r.col, r.val AS value, f.val AS nearest, r.n AS value_rows, f.n AS nearest_rows
      FROM rare r JOIN frequent f ON f.col = r.col AND f.n >= ${DOMAIN_RATIO} * r.n
        AND ((abs(length(f.val) - length(r.val)) <= 1 AND levenshtein(r.val, f.val) = 1) OR ${normal('r.val')} = ${normal('f.val')})
        -- Digits carry meaning (37 patients is no typo of 57 patients): the edit must leave them as they are.
        AND regexp_replace(r.val, '[^0-9]', '', 'g') = regexp_replace(f.val, '[^0-9]', '', 'g'))
    SELECT col AS column_name, value, any_value(nearest) AS nearest, any_value(value_rows) AS value_rows,
      any_value(nearest_rows) AS nearest_rows
    FROM near GROUP BY col, value HAVING count(*) = 1 ORDER BY col, value`);
  const stats = await engine.rows<{ col: string; frequent: string; outliers: string; outlier_rows: string }>(`
    SELECT s.col, (SELECT count(*) FROM (SELECT val FROM dv_long d WHERE d.col = s.col GROUP BY val HAVING count(*) >= ${DOMAIN_FREQUENT_ROWS})) AS frequent,
      count(f.value) AS outliers, COALESCE(sum(f.value_rows), 0) AS outlier_rows
    FROM dv_stats s LEFT JOIN facts_domains f ON f.column_name = s.col
    WHERE s.values * 2 <= s.rows GROUP BY s.col ORDER BY s.col`);
  const allowed = contract.discover?.domains === true;
  return stats
    .filter((s) => Number(s.frequent) > 0)
    .map((s) => ({
      column: s.col,
      frequent_values: Number(s.frequent),
      outlier_values: Number(s.outliers),
      outlier_rows: Number(s.outlier_rows),
      acting: allowed && Number(s.outliers) > 0,
    }));
}

/** The discovered dependencies that act, as rules for the evidence step. */
export function actingDependencies(discovered: Discovered): DependencyRule[] {
  return discovered.dependencies
    .filter((d) => d.acting)
    .map((d) => ({
      id: d.id,
      determinant: d.determinant,
      dependent: d.dependent,
      min_support: DEFAULT_MIN_SUPPORT,
      min_share: DEFAULT_MIN_SHARE,
      origin: 'discovered' as const,
    }));
}

/** `domain_reasons`: rows holding an outlier of a domain that may act (call only when domains act). */
export async function domainReasons(engine: Engine, contract: Contract, relation: string): Promise<number> {
  const cols = contract.columns.filter((c) => !c.primary_key);
  const arms = cols.map(
    (c) =>
      `SELECT s.row_id, ${literal(`${c.name}:domain`)} AS reason, f.value FROM ${relation} s JOIN facts_domains f ON f.column_name = ${literal(c.name)} AND f.value = s.${ident(c.name)}`,
  );
  // Found on the sample, checked on the whole batch: a value rare in the first rows may be common later.
  await engine.run(`CREATE OR REPLACE TEMP TABLE domain_reasons AS
    SELECT row_id, reason FROM (
      SELECT *, count(*) OVER (PARTITION BY reason, value) AS n FROM (${arms.join(' UNION ALL ')}))
    WHERE n <= ${DOMAIN_RARE_ROWS}`);
  const [n] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM domain_reasons');
  return Number(n?.n ?? 0);
}
