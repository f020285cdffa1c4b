import type { Column, Contract } from './contract.ts';
import { ident, literal, literalList } from '../engine/sql.ts';

/**
 * The contract compiled to SQL over a relation that carries each column as text (exactly as it
 * arrived) and, for columns with a type to cast to, its typed value in a column named
 * `$<name>` (see withTypedColumns: each value is cast once, not once per rule). Each rule is
 * a predicate that is true when a value fails it; a row's reasons are the codes
 * `<column>:<rule>` of the predicates that hold, computed for every row at once.
 */

/**
 * Physical type of a decimal whose contract declares a scale `s`: DECIMAL(18, s). Eighteen
 * digits keep the value in 64 bits; a value with more than 18 - s integer digits does not cast,
 * so it fails `type` (review) instead of being rounded. Fractions longer than `s` fail `type` too.
 */
export const SCALED_DECIMAL_PRECISION = 18;

/**
 * A decimal without a declared scale accepts any fraction length its physical type holds
 * exactly, and keeps every digit: DECIMAL(38, 18), the widest exact decimal DuckDB and Parquet
 * share (never DOUBLE, which would change digits). Bound: at most 20 integer digits (every
 * 64-bit integer fits) and 18 fraction digits (every double printed in its shortest form above
 * 1e-2 fits, float noise included). A value beyond the bound fails `type` and goes to review;
 * it is never rounded.
 */
export const UNSCALED_DECIMAL = { precision: 38, scale: 18, integerDigits: 20 } as const;

/**
 * The fast path of the unscaled cast: DuckDB 1.5 casts text to a 38-digit decimal ~150x slower
 * than to an 18-digit one (13 s against 0.08 s for 1M values, one thread), so a value with at
 * most 9 integer and 9 fraction digits is cast to DECIMAL(18, 9) and widened exactly (0.2 s for
 * 1M); longer values take the slow cast. Both give the same DECIMAL(38, 18) value.
 */
const UNSCALED_FAST = { precision: 18, scale: 9, pattern: '-?[0-9]{1,9}(\\.[0-9]{1,9})?' } as const;

/** E-mail shape of the `email` type (RE2 and JavaScript alike). */
export const EMAIL = '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}';
/** E.164: the canonical phone form a contract's clean data carries. */
export const PHONE = '\\+[1-9][0-9]{6,14}';
const ISO_TIMESTAMP = '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?';

function regexFails(value: string, pattern: string): string {
  return `NOT regexp_full_match(${value}, ${literal(pattern)})`;
}

/** True when the value is null: missing, empty, or one of the contract's null tokens. */
export function isNullSql(column: Column, contract: Contract): string {
  const v = ident(column.name);
  const tokens = contract.format.null_tokens;
  return `(${v} IS NULL OR ${v} = ''${tokens.length ? ` OR ${v} IN (${literalList(tokens)})` : ''})`;
}

/** The value as the contract's type: NULL where it is null, a null token, or not of the type (a failed cast). */
export function typedSql(column: Column): string {
  const v = ident(column.name);
  switch (column.type) {
    case 'integer':
      return `TRY_CAST(${v} AS BIGINT)`;
    case 'decimal':
      return decimalCastSql(column, v);
    case 'boolean':
      return `TRY_CAST(lower(${v}) AS BOOLEAN)`;
    case 'date':
      return column.format ? `CAST(TRY_STRPTIME(${v}, ${literal(column.format)}) AS DATE)` : `TRY_CAST(${v} AS DATE)`;
    case 'timestamp':
      return column.format ? `CAST(TRY_STRPTIME(${v}, ${literal(column.format)}) AS TIMESTAMPTZ)` : `TRY_CAST(${v} AS TIMESTAMPTZ)`;
    default:
      return v;
  }
}

/** The DuckDB type a decimal column's values take in clean and curated Parquet alike. */
export function decimalSqlType(column: Column): string {
  return column.scale === undefined
    ? `DECIMAL(${UNSCALED_DECIMAL.precision}, ${UNSCALED_DECIMAL.scale})`
    : `DECIMAL(${SCALED_DECIMAL_PRECISION}, ${column.scale})`;
}

/** A decimal's text cast to decimalSqlType (NULL where it does not cast); exact for every value that passes `type`. */
function decimalCastSql(column: Column, v: string): string {
  const type = decimalSqlType(column);
  if (column.scale !== undefined) return `TRY_CAST(${v} AS ${type})`;
  const fast = `TRY_CAST(${v} AS DECIMAL(${UNSCALED_FAST.precision}, ${UNSCALED_FAST.scale}))::${type}`;
  return `CASE WHEN regexp_full_match(${v}, ${literal(UNSCALED_FAST.pattern)}) THEN ${fast} ELSE TRY_CAST(${v} AS ${type}) END`;
}

/** The fraction digits a decimal may carry: its declared scale, or all its physical type holds exactly. */
export function decimalFractionDigits(column: Column): number {
  return column.scale ?? UNSCALED_DECIMAL.scale;
}

/** Whether the column has a type other than text, kept in its own `$<name>` column. */
function isCast(column: Column): boolean {
  return typedSql(column) !== ident(column.name);
}

/** The column's typed value (NULL where null or not of the type): its `$<name>` column, or the text itself. */
export function typedRef(column: Column): string {
  return isCast(column) ? ident(`$${column.name}`) : ident(column.name);
}

/** `relation` with the typed value of every cast column added as `$<name>` (names a contract cannot use). */
export function withTypedColumns(contract: Contract, relation: string): string {
  const casts = contract.columns.filter(isCast).map((c) => `${typedSql(c)} AS ${typedRef(c)}`);
  return casts.length ? `SELECT *, ${casts.join(', ')} FROM (${relation})` : relation;
}

/** True when a non-null value does not have the contract's type (in its canonical text form). */
function typeFailsSql(column: Column): string | undefined {
  const v = ident(column.name);
  const typed = typedRef(column);
  switch (column.type) {
    case 'integer':
      // Canonical text: the value must print back as itself (no sign, spaces, exponent or leading zeros).
      return `(${typed} IS NULL OR CAST(${typed} AS VARCHAR) <> ${v})`;
    case 'decimal': {
      // Never more fraction digits than the type keeps (a cast would round them); too many integer digits fail the cast.
      const scale = decimalFractionDigits(column);
      const fraction = scale > 0 ? `(\\.[0-9]{1,${scale}})?` : '';
      return `(${regexFails(v, `-?[0-9]+${fraction}`)} OR ${typed} IS NULL)`;
    }
    case 'boolean':
      return `lower(${v}) NOT IN ('true', 'false')`;
    case 'date':
      // ISO 8601 is what a DATE prints as, so printing back checks the form for free.
      return column.format ? `${typed} IS NULL` : `(${typed} IS NULL OR CAST(${typed} AS VARCHAR) <> ${v})`;
    case 'timestamp':
      return column.format ? `${typed} IS NULL` : `(${regexFails(v, ISO_TIMESTAMP)} OR ${typed} IS NULL)`;
    case 'email':
      return regexFails(v, EMAIL);
    case 'phone':
      return regexFails(v, PHONE);
    default:
      return undefined;
  }
}

function boundSql(column: Column, bound: number | string): string {
  if (column.type === 'date') return `CAST(${literal(String(bound))} AS DATE)`;
  if (column.type === 'timestamp') return `CAST(${literal(String(bound))} AS TIMESTAMPTZ)`;
  if (column.type === 'integer' || column.type === 'decimal') return String(Number(bound));
  return literal(String(bound));
}

/** One rule as SQL: the reason code `<column>:<rule>` and the predicate that is true when a row breaks it. */
export interface RowRule {
  code: string;
  /** True when the row fails. */
  fails: string;
}

/** Every row-level rule of the contract: column rules, then its row-level dbt-style tests. */
export function rowRules(contract: Contract): RowRule[] {
  const rules: RowRule[] = [];
  const byName = new Map(contract.columns.map((c) => [c.name.toLowerCase(), c]));
  for (const column of contract.columns) {
    const isNull = isNullSql(column, contract);
    const typeFails = typeFailsSql(column);
    const present = `NOT ${isNull}${typeFails ? ` AND NOT ${typeFails}` : ''}`;
    const v = ident(column.name);
    const typed = typedRef(column);
    const code = (rule: string) => `${column.name}:${rule}`;
    if (!column.nullable || column.primary_key) rules.push({ code: code('not_null'), fails: isNull });
    if (typeFails) rules.push({ code: code('type'), fails: `NOT ${isNull} AND ${typeFails}` });
    if (column.pattern) rules.push({ code: code('pattern'), fails: `${present} AND ${regexFails(v, column.pattern)}` });
    if (column.allowed) rules.push({ code: code('allowed'), fails: `${present} AND ${v} NOT IN (${literalList(column.allowed)})` });
    if (column.max_length) rules.push({ code: code('max_length'), fails: `${present} AND length(${v}) > ${column.max_length}` });
    // The typed value is NULL when the value is null or has the wrong type, so bounds need no guard.
    if (column.min !== undefined) rules.push({ code: code('min'), fails: `${typed} < ${boundSql(column, column.min)}` });
    if (column.max !== undefined) rules.push({ code: code('max'), fails: `${typed} > ${boundSql(column, column.max)}` });
  }
  for (const test of contract.tests) {
    if (test.type === 'not_null') {
      const column = byName.get(test.column.toLowerCase())!;
      rules.push({ code: `${column.name}:not_null`, fails: isNullSql(column, contract) });
    } else if (test.type === 'accepted_values') {
      const column = byName.get(test.column.toLowerCase())!;
      rules.push({
        code: `${column.name}:accepted_values`,
        fails: `NOT ${isNullSql(column, contract)} AND ${ident(column.name)} NOT IN (${literalList(test.values)})`,
      });
    } else if (test.type === 'range') {
      const column = byName.get(test.column.toLowerCase())!;
      const typed = typedRef(column);
      const parts = [
        test.min !== undefined ? `${typed} < ${boundSql(column, test.min)}` : undefined,
        test.max !== undefined ? `${typed} > ${boundSql(column, test.max)}` : undefined,
      ].filter(Boolean);
      if (parts.length) rules.push({ code: `${column.name}:range`, fails: `(${parts.join(' OR ')}) IS TRUE` });
    }
  }
  // Deduplicate codes (a not_null test on a non-nullable column is one rule).
  const seen = new Set<string>();
  return rules.filter((r) => (seen.has(r.code) ? false : (seen.add(r.code), true)));
}

/** Expression tests run over the typed values; a row fails when the predicate is false. */
export function expressionRules(contract: Contract): RowRule[] {
  return contract.tests.flatMap((t) =>
    t.type === 'expression' ? [{ code: `row:expression:${t.name}`, fails: `(${t.expression}) IS FALSE` }] : [],
  );
}

/** Columns that a `unique` test (other than the primary key) covers. */
export function uniqueTests(contract: Contract): string[][] {
  return contract.tests.flatMap((t) => (t.type === 'unique' ? [t.columns] : []));
}

const listOf = (items: string[]) => (items.length ? `[${items.join(', ')}]` : '[]::VARCHAR[]');

/** True when the row breaks any of `rules` (a rule whose predicate is NULL is not broken). */
export function anyRuleFails(rules: RowRule[]): string {
  return rules.length ? `(${rules.map((r) => `(${r.fails})`).join(' OR ')}) IS TRUE` : 'false';
}

/** The codes of the rules a row breaks, as one list expression (empty for a clean row). */
export function reasonList(rules: RowRule[]): string {
  return `list_filter(${listOf(rules.map((r) => `CASE WHEN ${r.fails} THEN ${literal(r.code)} END`))}, x -> x IS NOT NULL)`;
}

/** The contract's columns as their types (from a relation with typed columns); empty values and null tokens become NULL. */
export function typedProjection(contract: Contract): string {
  return contract.columns
    .map((c) => {
      // A failed cast is already NULL; only text-typed columns need nulls spelled out.
      const value = isCast(c) ? typedRef(c) : `CASE WHEN ${isNullSql(c, contract)} THEN NULL ELSE ${ident(c.name)} END`;
      return `${value} AS ${ident(c.name)}`;
    })
    .join(', ');
}
