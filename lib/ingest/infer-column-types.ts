import type { Column, Contract } from '../contract/contract.ts';
import { isNullSql, rowRules, withTypedColumns } from '../contract/rules-sql.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import type { SourceReader } from './load-source.ts';

/** The types a new text column may be proposed as, narrowest first; `string` when none holds every value. */
const CANDIDATES = ['integer', 'decimal', 'date', 'timestamp', 'boolean'] as const;
type Candidate = (typeof CANDIDATES)[number];

/**
 * A decimal is proposed only where every value already has the form a decimal prints back to
 * (no leading zeros, no `+`, no trailing point): a code such as `02134` stays a string, so no
 * digit of a valid value is ever changed by the type a proposal gives it.
 */
const CANONICAL_DECIMAL = '-?(0|[1-9][0-9]*)(\\.[0-9]+)?';

/**
 * The type each new column of a text file (CSV, JSON Lines) is proposed as under schema
 * evolution: the narrowest of integer, decimal, date, timestamp and boolean that every present
 * value of the column passes by the contract's own `type` rule (rules-sql.ts), else `string`;
 * `string` too for a column with no value at all. One scan of the file, in the engine, counts the
 * values that fail each candidate for every new column at once.
 *
 * @example
 * const types = await inferColumnTypes(engine, reader, contract, ['discount']); // Map { 'discount' => 'decimal' }
 */
export async function inferColumnTypes(
  engine: Engine,
  reader: SourceReader,
  contract: Contract,
  names: readonly string[],
): Promise<Map<string, Column['type']>> {
  if (names.length === 0) return new Map();
  const pairs = names.flatMap((name, i) => CANDIDATES.map((type) => ({ name, type, alias: `c${i}_${type}` })));
  const columns = pairs.map((p): Column => ({ name: p.alias, type: p.type, nullable: true, primary_key: false, pii: false }));
  const probe = { ...contract, columns, tests: [] } as Contract;
  const relation = `SELECT ${pairs.map((p) => `${ident(p.name)} AS ${ident(p.alias)}`).join(', ')} FROM (${reader.select})`;
  const fails = new Map(rowRules(probe).map((r) => [r.code, r.fails]));
  const counts = pairs.map((p, j) => {
    const typeFails = fails.get(`${p.alias}:type`) ?? 'false';
    const extra = p.type === 'decimal' ? ` OR NOT regexp_full_match(${ident(p.alias)}, ${literal(CANONICAL_DECIMAL)})` : '';
    const present = `NOT ${isNullSql(columns[j]!, probe)}`;
    return `count(*) FILTER (WHERE ${present} AND (${typeFails}${extra})) AS ${ident(`f${j}`)}`;
  });
  const presence = names.map(
    (_, i) => `count(*) FILTER (WHERE NOT ${isNullSql(columns[i * CANDIDATES.length]!, probe)}) AS ${ident(`p${i}`)}`,
  );
  const [row] = await engine.rows<Record<string, string | number>>(
    `SELECT ${[...counts, ...presence].join(', ')} FROM (${withTypedColumns(probe, relation)})`,
  );
  const failing = (j: number) => Number(row?.[`f${j}`] ?? 1);
  return new Map(
    names.map((name, i): [string, Column['type']] => {
      if (Number(row?.[`p${i}`] ?? 0) === 0) return [name, 'string'];
      const fit = CANDIDATES.findIndex((_, k) => failing(i * CANDIDATES.length + k) === 0);
      return [name, fit < 0 ? 'string' : (CANDIDATES[fit] as Candidate)];
    }),
  );
}
