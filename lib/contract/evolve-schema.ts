import { type CompatibilityVerdict, compatibility } from './compatibility.ts';
import { type Column, type Contract, evolutionPolicy } from './contract.ts';
import { ContractInvalidError, parseContract } from './registry.ts';
import { type SchemaColumn, storageClass } from './schema-fingerprint.ts';

/** What a file whose columns differ from its contract proposes, and whether the stream's policy lets it in. */
export interface SchemaEvolution {
  verdict: CompatibilityVerdict;
  /** The next contract the file's columns describe; absent when they cannot make a valid contract (`invalid` says why). */
  proposed?: Contract;
  invalid?: string;
}

/** The names of the file's columns the contract does not have (names compare case-insensitively). */
export function newColumns(current: Contract, observed: SchemaColumn[]): string[] {
  const known = new Set(current.columns.map((c) => c.name.toLowerCase()));
  return observed.map((c) => c.name).filter((name) => !known.has(name.toLowerCase()));
}

/** The contract column type a file's storage class (engineStorageClass) stands for; undefined for one no column type has. */
function columnType(storage: string): Column['type'] | undefined {
  if (storage === 'text') return 'string';
  return (['integer', 'decimal', 'boolean', 'date', 'timestamp'] as const).find((t) => t === storage);
}

/**
 * The next contract a file's columns propose: the registered columns the file still carries (the
 * file's spelling; for Parquet, the file's type where its storage class differs), then each new
 * column, by name, as a nullable column of the file's type (`string` for text formats: a type
 * read off one file's values would make files of the same header propose different contracts)
 * marked
 * `pii` until an operator says otherwise; the declared `version` one higher. A column the file
 * lacks is left out (a removal, which every policy halts on).
 */
function proposedColumns(current: Contract, observed: SchemaColumn[]): unknown[] | string {
  const registered = new Map(current.columns.map((c) => [c.name.toLowerCase(), c]));
  const typed = current.format.type === 'parquet';
  const kept: unknown[] = [];
  const added: unknown[] = [];
  for (const column of observed) {
    const type = typed ? columnType(column.type) : 'string';
    if (!type) return `column ${column.name} has storage type ${column.type}, which no contract column type reads`;
    const before = registered.get(column.name.toLowerCase());
    if (!before) {
      added.push({ name: column.name, type, nullable: true, pii: true, description: 'added by a file under schema evolution' });
      continue;
    }
    // The same storage class is the same column (a Parquet `email`, `phone` or `enum` column is stored as text).
    if (!typed || storageClass(before.type) === column.type) {
      kept.push({ ...before, name: column.name });
      continue;
    }
    // Retyped: the identity and privacy flags stay; rules of the old type go (integer -> decimal keeps its bounds).
    const { nullable, primary_key, pii, description, min, max } = before;
    const bounds = before.type === 'integer' && type === 'decimal' ? { min, max } : {};
    kept.push({ name: column.name, type, nullable, primary_key, pii, description, ...bounds });
  }
  const order = new Map(current.columns.map((c, i) => [c.name.toLowerCase(), i]));
  kept.sort((a, b) => (order.get((a as Column).name.toLowerCase()) ?? 0) - (order.get((b as Column).name.toLowerCase()) ?? 0));
  // New columns by name, so files that carry them in another order propose the same contract.
  const byName = (a: unknown, b: unknown): number => ((a as Column).name < (b as Column).name ? -1 : 1);
  return [...kept, ...added.sort(byName)];
}

/**
 * Meets a file's observed columns with the stream's contract and policy: the proposed next
 * contract and the compatibility verdict on it. A file whose names differ from the contract's in
 * case only changes no column (the engine reads names case-insensitively): accepted, except under
 * `strict`, which halts on any difference.
 *
 * @example
 * const { verdict, proposed } = evolveSchema(registered.contract, reader.observed);
 * if (verdict.accepted && proposed) ... // ingest under `proposed`, a version for an operator to adopt
 */
export function evolveSchema(current: Contract, observed: SchemaColumn[]): SchemaEvolution {
  const policy = evolutionPolicy(current);
  const columns = proposedColumns(current, observed);
  if (typeof columns === 'string')
    return { verdict: { policy, accepted: false, changes: [], rule: `every policy: ${columns}` }, invalid: columns };
  let proposed: Contract;
  try {
    proposed = parseContract({ ...current, version: current.version + 1, columns }, 'proposed by the file');
  } catch (error) {
    if (!(error instanceof ContractInvalidError)) throw error;
    const invalid = error.message.replace(/\s+/g, ' ');
    return { verdict: { policy, accepted: false, changes: [], rule: `every policy: the file's columns make no valid contract` }, invalid };
  }
  const verdict = compatibility(current, proposed, policy);
  if (verdict.changes.length === 0) {
    const strict = policy === 'strict';
    return { verdict: { ...verdict, accepted: !strict, rule: `${policy}: column names differ in case only` }, proposed };
  }
  return { verdict, proposed };
}
