import { VaultmendError } from '../errors.ts';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { putJson } from '../store/json-objects.ts';
import { ContractSchema, type Contract } from './contract.ts';
import { expectedSchema, schemaFingerprint } from './schema-fingerprint.ts';
import { z } from 'zod';
import { findObject, objectKind } from '../vault/vault-object.ts';
import { recordVersion, recordVersionAt } from './contract-versions.ts';

/**
 * The schema registry lives in the vault: `contracts/<stream>.json`, the current contract of each
 * stream, and `contracts/<stream>/versions/<n>.json`, every contract it had (see contract-versions.ts).
 */
export interface RegisteredContract {
  contract: Contract;
  /** SHA-256 of the schema a conforming file carries (see schema-fingerprint.ts). */
  fingerprint: string;
  registered_at: string;
  /** The registry's version of it (contracts/<stream>/versions/<n>.json); absent for contracts registered before versions were kept. */
  registry_version?: number;
}

/** A contract that cannot be registered or read: the message names each field that is wrong. */
export class ContractInvalidError extends VaultmendError {
  constructor(message: string) {
    super('contract-invalid', message);
  }
}

/** `columns.3.min` reads as `columns.amount.min` when column 3 of `json` is named `amount`. */
function fieldName(json: unknown, path: readonly PropertyKey[]): string {
  const parts = path.map(String);
  if (parts[0] === 'columns' && parts.length > 1) {
    const columns = (json as { columns?: unknown } | null)?.columns;
    const name = Array.isArray(columns) ? (columns[Number(parts[1])] as { name?: unknown } | undefined)?.name : undefined;
    if (typeof name === 'string' && name !== '') parts[1] = name;
  }
  return parts.join('.') || '(contract)';
}

/**
 * Validates `json` as a contract and fills in its defaults; a ContractInvalidError lists every
 * problem as `<field>: <why>` (columns named by their name). `source` (a file name) heads the message.
 */
export function parseContract(json: unknown, source?: string): Contract {
  const parsed = ContractSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${fieldName(json, i.path)}: ${i.message}`);
    throw new ContractInvalidError(`invalid contract${source ? ` ${source}` : ''}:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

/** Parses a contract file's text (`source` names the file in every message, a JSON syntax error included). */
export function parseContractText(text: string, source: string): Contract {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ContractInvalidError(`${source} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseContract(json, source);
}

/** A contract validated for registration, with its schema fingerprint and the time (no registry version yet). */
function registration(json: unknown, now: Date, source: string | undefined): Omit<RegisteredContract, 'registry_version'> {
  const contract = parseContract(json, source);
  return { contract, fingerprint: schemaFingerprint(expectedSchema(contract)), registered_at: now.toISOString() };
}

/**
 * Makes a recorded version the current contract (`contracts/<stream>.json`) unless a later one is
 * current by then: the current contract moves only forward, so a slower registration of an
 * earlier version does not take it back.
 */
async function advanceCurrent(store: ObjectStore, registered: RegisteredContract & { registry_version: number }): Promise<void> {
  const current = await loadContract(store, registered.contract.stream);
  if ((current?.registry_version ?? 0) < registered.registry_version)
    await putJson(store, keys.contract(registered.contract.stream), registered);
}

/** Validates and stores a contract as `contracts/<stream>.json` with its schema fingerprint. */
export async function registerContract(store: ObjectStore, json: unknown, now = new Date(), source?: string): Promise<RegisteredContract> {
  const entry = registration(json, now, source);
  // The version first: the current contract is always one of the recorded versions.
  const { version } = await recordVersion(store, entry);
  const registered = { ...entry, registry_version: version };
  await advanceCurrent(store, registered);
  return registered;
}

/**
 * Registers a contract as exactly registry version `n` of its stream, or not at all: the version
 * is written first-writer-wins, and `registered: false` says another registration holds `n`
 * already. The current contract moves to it unless a later version is current by then.
 *
 * @example
 * const { registered } = await registerContractAs(store, proposal.contract, base + 1);
 */
export async function registerContractAs(
  store: ObjectStore,
  json: unknown,
  n: number,
  now = new Date(),
  source?: string,
): Promise<{ registered: boolean; contract: RegisteredContract }> {
  const entry = registration(json, now, source);
  const written = await recordVersionAt(store, entry, n);
  const registered = { ...entry, registry_version: n };
  if (!written.same) return { registered: false, contract: registered };
  await advanceCurrent(store, registered);
  return { registered: true, contract: registered };
}

/**
 * A stored contract as it is read back. Contracts registered before a primary key defaulted to
 * not-null carry `nullable: true` on key columns (the old default); the bouncer has always
 * treated a key as not-null, so that stored value is read as the `false` it always meant.
 */
function storedForm(contract: unknown): unknown {
  const columns = (contract as { columns?: unknown } | null)?.columns;
  if (!Array.isArray(columns)) return contract;
  return {
    ...(contract as object),
    columns: columns.map((c: unknown) => {
      const column = c as { primary_key?: unknown; nullable?: unknown };
      return column && column.primary_key === true && column.nullable === true ? { ...column, nullable: false } : c;
    }),
  };
}

/** The registry's object as stored: the contract is checked by parseContract (its messages name the field). */
const StoredContractSchema = z.object({
  contract: z.unknown(),
  fingerprint: z.string().min(1),
  registered_at: z.string(),
  registry_version: z.number().int().positive().optional(),
});

/** `contracts/<stream>.json`: one typed entry of the vault (key + schema). */
export const storedContract = objectKind('registered contract', keys.contract, StoredContractSchema);

/** The stream's registered contract, or undefined when the stream is unknown. */
export async function loadContract(store: ObjectStore, stream: string): Promise<RegisteredContract | undefined> {
  const ref = storedContract.at(stream);
  const stored = await findObject(store, ref);
  if (!stored) return undefined;
  return { ...stored, contract: parseContract(storedForm(stored.contract), ref.key) };
}
