import { VaultmendError } from '../errors.ts';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { putJson } from '../store/json-objects.ts';
import { ContractSchema, type Contract } from './contract.ts';
import { expectedSchema, schemaFingerprint } from './schema-fingerprint.ts';

/**
 * The schema registry lives in the vault: `contracts/<stream>.json`, one object per stream,
 * versioned by the bucket (every registration is a new version, the history is kept).
 */
export interface RegisteredContract {
  contract: Contract;
  /** SHA-256 of the schema a conforming file carries (see schema-fingerprint.ts). */
  fingerprint: string;
  registered_at: string;
}

export class ContractInvalidError extends VaultmendError {
  constructor(message: string) {
    super('contract-invalid', message);
  }
}

export function parseContract(json: unknown): Contract {
  const parsed = ContractSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(contract)'}: ${i.message}`);
    throw new ContractInvalidError(`invalid contract:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

export async function registerContract(store: ObjectStore, json: unknown, now = new Date()): Promise<RegisteredContract> {
  const contract = parseContract(json);
  const registered: RegisteredContract = {
    contract,
    fingerprint: schemaFingerprint(expectedSchema(contract)),
    registered_at: now.toISOString(),
  };
  await putJson(store, keys.contract(contract.stream), registered);
  return registered;
}

/** The stream's registered contract, or undefined when the stream is unknown. */
export async function loadContract(store: ObjectStore, stream: string): Promise<RegisteredContract | undefined> {
  const key = keys.contract(stream);
  if (!(await store.exists(key))) return undefined;
  const stored = JSON.parse(await store.readText(key)) as RegisteredContract;
  return { ...stored, contract: parseContract(stored.contract) };
}
