import type { Column, Contract } from '../contract/contract.ts';
import { isNullSql, rowRules, withTypedColumns } from '../contract/rules-sql.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import type { SourceReader } from './load-source.ts';
import { rejectFromEngineError } from './input-rejected.ts';

/**
 * The types a new text column may be suggested as, narrowest first; `string` when none holds every
 * value. Timestamps are not among them: a zone offset is normalised to UTC and digits past the
 * microsecond are dropped, so the stored value would not read as the text did.
 */
const CANDIDATES = ['integer', 'decimal', 'date', 'boolean'] as const;
type Candidate = (typeof CANDIDATES)[number];

/**
 * Beyond the contract's own `type` rule, the text each type must be in to read back as itself:
 * a decimal without leading or trailing zeros, a sign only on a non-zero value (`02134`, `1.50`
 * and `-0` keep the column a string), a boolean in lower case. Integers and dates are checked by
 * their `type` rule already (they must print back as themselves).
 */
const CANONICAL: Partial<Record<Candidate, string>> = {
  decimal: '(0|-?[1-9][0-9]*)(\\.[0-9]*[1-9])?|-0\\.[0-9]*[1-9]',
  boolean: 'true|false',
};
/** At most this many new columns get a suggestion (one scan holds five expressions a column); a file with more gets none. */
export const MAX_SUGGESTED_COLUMNS = 64;
/** A name a contract column may have (contract.ts): another cannot be suggested a type. */
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_ ]{0,62}$/;

/**
 * The type the values of each new column of a text file (CSV, JSON Lines) suggest, for the
 * operator who decides on the schema proposal: the narrowest of integer, decimal, date and
 * boolean that every present value passes by the contract's own `type` rule (rules-sql.ts) and
 * reads back as itself in (CANONICAL), else `string`; `string` too for a column with no value or a
 * name no contract column may have, and for every column of a file with more than
 * MAX_SUGGESTED_COLUMNS new ones. One scan of the file, in the engine, counts the values that
 * fail each candidate for every new column at once. A read error the input explains is thrown as
 * the InputRejectedError the bouncer would have raised (the file is then quarantined whole).
 *
 * @example
 * const types = await inferColumnTypes(engine, reader, contract, ['qty']); // Map { 'qty' => 'integer' }
 */
export async function inferColumnTypes(
  engine: Engine,
  reader: SourceReader,
  contract: Contract,
  names: readonly string[],
): Promise<Map<string, Column['type']>> {
  const typed = names.filter((name) => COLUMN_NAME.test(name));
  const suggested = new Map<string, Column['type']>(names.map((name) => [name, 'string']));
  if (typed.length === 0 || typed.length > MAX_SUGGESTED_COLUMNS) return suggested;
  for (const [name, type] of await scan(engine, reader, contract, typed)) suggested.set(name, type);
  return suggested;
}

/** The one scan: per new column, the first candidate no present value fails. */
async function scan(engine: Engine, reader: SourceReader, contract: Contract, names: string[]): Promise<Map<string, Column['type']>> {
  const pairs = names.flatMap((name, i) => CANDIDATES.map((type) => ({ name, type, alias: `c${i}_${type}` })));
  const columns = pairs.map((p): Column => ({ name: p.alias, type: p.type, nullable: true, primary_key: false, pii: false }));
  const probe = { ...contract, columns, tests: [] } as Contract;
  const relation = `SELECT ${pairs.map((p) => `${ident(p.name)} AS ${ident(p.alias)}`).join(', ')} FROM (${reader.select})`;
  const fails = new Map(rowRules(probe).map((r) => [r.code, r.fails]));
  const counts = pairs.map((p, j) => {
    const typeFails = fails.get(`${p.alias}:type`) ?? 'false';
    const form = CANONICAL[p.type];
    const extra = form ? ` OR NOT regexp_full_match(${ident(p.alias)}, ${literal(form)})` : '';
    const present = `NOT ${isNullSql(columns[j]!, probe)}`;
    return `count(*) FILTER (WHERE ${present} AND (${typeFails}${extra})) AS ${ident(`f${j}`)}`;
  });
  const presence = names.map(
    (_, i) => `count(*) FILTER (WHERE NOT ${isNullSql(columns[i * CANDIDATES.length]!, probe)}) AS ${ident(`p${i}`)}`,
  );
  let row: Record<string, string | number> | undefined;
  try {
    [row] = await engine.rows<Record<string, string | number>>(
      `SELECT ${[...counts, ...presence].join(', ')} FROM (${withTypedColumns(probe, relation)})`,
    );
  } catch (error) {
    throw rejectFromEngineError(error) ?? error;
  }
  const failing = (j: number) => Number(row?.[`f${j}`] ?? 1);
  return new Map(
    names.map((name, i): [string, Column['type']] => {
      if (Number(row?.[`p${i}`] ?? 0) === 0) return [name, 'string'];
      const fit = CANDIDATES.findIndex((_, k) => failing(i * CANDIDATES.length + k) === 0);
      return [name, fit < 0 ? 'string' : (CANDIDATES[fit] as Candidate)];
    }),
  );
}
