import { createHash } from 'node:crypto';
import { ident } from '../engine/sql.ts';
import { primaryKey, type Column, type Contract } from './contract.ts';

/**
 * The primary-key hash, defined once: `pk_hash` = SHA-256 (lowercase hex) of the UTF-8 bytes of
 * the record's *key text*. The ingest step computes it in SQL for every row it sets aside
 * (pkHashSql); erasure computes it in TypeScript from the values a person gives (pkHashOf).
 * tests/unit/pk-hash-agreement.test.ts runs both on random values and requires the same hash.
 *
 * The key text is built from the *components*: the primary-key columns in contract order, or,
 * for a contract without a primary key, every column (the whole row is the record's identity).
 * Each component is the column's text exactly as it arrived (no trimming, no cast).
 * - `value` form (a primary key of one column): the text of that value. A NULL value is the
 *   empty string (the text cannot tell them apart; both break `not_null` and are quarantined).
 * - `json-array` form (a composite key, or the whole row): the components as a JSON array with
 *   no spaces, `["a","b"]`, where a NULL component is `null` (so it differs from `""`), and
 *   strings are escaped exactly as DuckDB's `to_json` writes them: `\"`, `\\`, `\b`, `\f`,
 *   `\n`, `\r`, `\t`, any other character below U+0020 as `\u00XX` with upper-case hex, every
 *   other character (non-ASCII, U+007F, U+2028, `/`) as itself.
 * Text that is not well-formed UTF-16 (a lone surrogate) reads as U+FFFD, as it does once stored.
 */
export interface RecordKey {
  /** The columns whose text identifies a record, in contract order. */
  columns: readonly Column[];
  /** How their texts become one key text (see above). */
  form: 'value' | 'json-array';
}

/** Which columns identify a record of `contract`, and in which form their texts are joined. */
export function recordKey(contract: Contract): RecordKey {
  const pk = primaryKey(contract);
  if (pk.length === 1) return { columns: pk, form: 'value' };
  return { columns: pk.length ? pk : contract.columns, form: 'json-array' };
}

/** JSON escapes for the characters below U+0020 that have a short form; the rest are `\u00XX`. */
const SHORT_ESCAPES: Record<string, string> = { '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

function escapeChar(c: string): string {
  return SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** One component as a JSON value, escaped as `to_json` escapes it. */
function jsonComponent(value: string | null): string {
  return value === null ? 'null' : `"${value.toWellFormed().replace(/["\\\u0000-\u001f]/g, escapeChar)}"`;
}

/** The key text of one record from its components' text (`null` for a NULL), in `key.columns` order. */
export function keyText(key: RecordKey, components: readonly (string | null)[]): string {
  if (components.length !== key.columns.length) {
    throw new Error(
      `the record key has ${key.columns.length} column(s) (${key.columns.map((c) => c.name).join(', ')}); got ${components.length} value(s)`,
    );
  }
  if (key.form === 'value') return (components[0] ?? '').toWellFormed();
  return `[${components.map(jsonComponent).join(',')}]`;
}

/** SQL expression of the key text over a relation that carries the key's columns as text. */
export function keyTextSql(key: RecordKey): string {
  const columns = key.columns.map((c) => ident(c.name));
  return key.form === 'value' ? `COALESCE(${columns[0]}, '')` : `CAST(to_json([${columns.join(', ')}]) AS VARCHAR)`;
}

/** The record's `pk_hash` from its components' text, as the ingest step computes it. */
export function pkHashOf(contract: Contract, components: readonly (string | null)[]): string {
  return createHash('sha256')
    .update(keyText(recordKey(contract), components), 'utf8')
    .digest('hex');
}

/** SQL expression of every row's `pk_hash`, over a relation with the contract's columns as text. */
export function pkHashSql(contract: Contract): string {
  return `sha256(${keyTextSql(recordKey(contract))})`;
}
