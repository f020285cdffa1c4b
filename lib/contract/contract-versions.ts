import { z } from 'zod';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { findObject, objectKind, putObjectIfAbsent } from '../vault/vault-object.ts';
import type { Contract } from './contract.ts';

/**
 * The registry's versions of a stream's contract: every registration that changes the contract
 * makes version n + 1 (`contracts/<stream>/versions/<n>.json`, written first-writer-wins, never
 * overwritten); registering the same contract again makes none. `contracts/<stream>.json` stays
 * the current one. Two registrations racing for the same number: the loser takes the next.
 *
 * @example
 * const v = await recordVersion(store, registered); // { version: 3, created: true }
 */
export const ContractVersionSchema = z.object({
  stream: z.string(),
  version: z.number().int().positive(),
  contract: z.unknown(),
  fingerprint: z.string(),
  registered_at: z.string(),
});
export type ContractVersion = z.infer<typeof ContractVersionSchema>;

const contractVersion = objectKind('contract version', keys.contractVersion, ContractVersionSchema, { once: true });

/** How many tries a registration makes for a free version number before it gives up. */
const RACE_TRIES = 8;

/** The registry's version numbers of a stream's contract, oldest first. */
export async function versionNumbers(store: ObjectStore, stream: string): Promise<number[]> {
  const listed = await store.list(keys.contractVersions(stream));
  return listed
    .map((k) => /\/versions\/([0-9]{6})\.json$/.exec(k)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** One version of a stream's contract, or undefined when it does not exist. */
export async function loadContractVersion(store: ObjectStore, stream: string, version: number): Promise<ContractVersion | undefined> {
  return findObject(store, contractVersion.at(stream, version));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Records a registration as the stream's next version unless it equals the latest; returns the version that stands for it. */
export async function recordVersion(
  store: ObjectStore,
  registered: { contract: Contract; fingerprint: string; registered_at: string },
): Promise<{ version: number; created: boolean }> {
  const stream = registered.contract.stream;
  const numbers = await versionNumbers(store, stream);
  let next = (numbers.at(-1) ?? 0) + 1;
  const latest = numbers.length ? await loadContractVersion(store, stream, next - 1) : undefined;
  if (latest && same(latest.contract, registered.contract)) return { version: latest.version, created: false };
  for (let tries = 0; tries < RACE_TRIES; tries++, next++) {
    const entry: ContractVersion = { stream, version: next, ...registered };
    const written = await putObjectIfAbsent(store, contractVersion.at(stream, next), entry);
    if (written.created) return { version: next, created: true };
    if (same(written.value.contract, registered.contract)) return { version: next, created: false };
  }
  throw new Error(`contract versions of ${stream}: no free version number after ${RACE_TRIES} tries (registrations racing)`);
}

/**
 * Records a registration as exactly version `n` (first writer wins): `same` says whether the
 * version that stands holds this contract, so a conditional registration (an adopted proposal
 * becoming the version after the one it was proposed over) can tell it lost to another.
 */
export async function recordVersionAt(
  store: ObjectStore,
  registered: { contract: Contract; fingerprint: string; registered_at: string },
  n: number,
): Promise<{ created: boolean; same: boolean }> {
  const stream = registered.contract.stream;
  const written = await putObjectIfAbsent(store, contractVersion.at(stream, n), { stream, version: n, ...registered });
  return { created: written.created, same: written.created || same(written.value.contract, registered.contract) };
}

/** Every version of a stream's contract, oldest first. */
export async function contractHistory(store: ObjectStore, stream: string): Promise<ContractVersion[]> {
  const numbers = await versionNumbers(store, stream);
  const found = await Promise.all(numbers.map((n) => loadContractVersion(store, stream, n)));
  return found.filter((v): v is ContractVersion => v !== undefined);
}
