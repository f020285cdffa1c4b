import { createHash } from 'node:crypto';
import type { Column, Contract } from './contract.ts';

/**
 * The schema of a file as the columns it carries and the storage class of each. Text formats
 * (CSV, JSON Lines) carry every value as text, so only names can drift there; Parquet carries
 * types, so a retyped column is drift too.
 */
export interface SchemaColumn {
  name: string;
  type: string;
}

export interface SchemaDrift {
  added: string[];
  missing: string[];
  renamed: Array<{ from: string; to: string }>;
  retyped: Array<{ column: string; expected: string; found: string }>;
}

export function storageClass(type: Column['type']): string {
  switch (type) {
    case 'integer':
    case 'decimal':
    case 'boolean':
    case 'date':
    case 'timestamp':
      return type;
    default:
      return 'text';
  }
}

/** The storage class of an engine (DuckDB) type name. */
export function engineStorageClass(engineType: string): string {
  const t = engineType.toUpperCase();
  if (t === 'VARCHAR' || t === 'JSON') return 'text';
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|UHUGEINT)$/.test(t)) return 'integer';
  if (t === 'FLOAT' || t === 'DOUBLE' || t.startsWith('DECIMAL')) return 'decimal';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  return t.toLowerCase();
}

/** What a conforming file of the contract's format looks like. */
export function expectedSchema(contract: Contract): SchemaColumn[] {
  const typed = contract.format.type === 'parquet';
  return contract.columns.map((c) => ({ name: c.name, type: typed ? storageClass(c.type) : 'text' }));
}

/** SHA-256 of the canonical form: columns sorted by name (order is not drift; names map values). */
export function schemaFingerprint(columns: SchemaColumn[]): string {
  const canonical = [...columns].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((c) => [c.name, c.type]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** How `found` differs from `expected`; a missing and an added column at the same position read as a rename. */
export function schemaDrift(expected: SchemaColumn[], found: SchemaColumn[]): SchemaDrift | undefined {
  const expectedNames = new Set(expected.map((c) => c.name));
  const foundNames = new Set(found.map((c) => c.name));
  let missing = expected.filter((c) => !foundNames.has(c.name)).map((c) => c.name);
  let added = found.filter((c) => !expectedNames.has(c.name)).map((c) => c.name);
  const renamed: SchemaDrift['renamed'] = [];
  for (const from of [...missing]) {
    const position = expected.findIndex((c) => c.name === from);
    const to = found[position]?.name;
    if (to !== undefined && added.includes(to)) {
      renamed.push({ from, to });
      missing = missing.filter((m) => m !== from);
      added = added.filter((a) => a !== to);
    }
  }
  const foundType = new Map(found.map((c) => [c.name, c.type]));
  const retyped = expected
    .filter((c) => foundType.has(c.name) && foundType.get(c.name) !== c.type)
    .map((c) => ({ column: c.name, expected: c.type, found: foundType.get(c.name)! }));
  const drift = { added, missing, renamed, retyped };
  return added.length + missing.length + renamed.length + retyped.length > 0 ? drift : undefined;
}
