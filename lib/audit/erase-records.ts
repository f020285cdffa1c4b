import { primaryKey, type Contract } from '../contract/contract.ts';
import { pkHashOf } from '../contract/pk-hash.ts';
import type { DataKeyStore } from './data-keys.ts';

/**
 * The right to erasure in a write-once log: a person's audit values are sealed under their
 * record's data key; destroying the key (every version of it) makes those values unreadable
 * for good. The locked audit keeps every line, its chain and its root hash.
 */

/** The record named by its primary-key values (in contract order): its `pk_hash`, as the ingest step computed it. */
export function recordOf(contract: Contract, values: string[]): string {
  const pk = primaryKey(contract);
  if (pk.length === 0) throw new Error(`stream ${contract.stream} has no primary key: name the record by its hash (--record)`);
  if (values.length !== pk.length)
    throw new Error(`the primary key of ${contract.stream} has ${pk.length} column(s): ${pk.map((c) => c.name).join(', ')}`);
  return pkHashOf(contract, values);
}

/** Destroys every version of each record's data key; `destroyed` is false where the record had none. */
export async function eraseRecords(
  keyStore: DataKeyStore,
  stream: string,
  records: string[],
): Promise<{ record: string; destroyed: boolean }[]> {
  const out: { record: string; destroyed: boolean }[] = [];
  for (const record of records) out.push({ record, destroyed: await keyStore.destroy(stream, record) });
  return out;
}
