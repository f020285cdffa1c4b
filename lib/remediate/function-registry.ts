import { createHash } from 'node:crypto';
import { z } from 'zod';
import { FunctionSpecSchema } from '../vault/function-spec.ts';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { findObject, objectKind, putObjectIfAbsent, readObject, VaultObjectError } from '../vault/vault-object.ts';

/**
 * The registry tier: functions approved for a (stream, column, pattern signature) before.
 * A function lands here when it was measured at or above the confidence threshold; the next
 * batch with the same pattern tries it first (no model call) and measures it again, like
 * any other candidate. An operator can remove an entry to make the pattern be solved anew.
 */
export const RegistryEntrySchema = z.object({
  schema_version: z.literal(1),
  stream: z.string(),
  column: z.string(),
  rule: z.string(),
  shapes: z.array(z.string()),
  function: FunctionSpecSchema,
  approved_by: z.enum(['measured', 'operator']),
  origin: z.object({
    tier: z.string(),
    batch: z.string(),
    cluster: z.string(),
    confidence: z.number(),
    model: z.string().nullable(),
    /** Who approved it, for an entry approved by a person. */
    operator: z.string().optional(),
  }),
});
export type RegistryEntry = z.infer<typeof RegistryEntrySchema>;

/** The pattern signature: column, rule and the sorted shapes of the cluster. */
export function patternSignature(column: string, rule: string, shapes: string[]): string {
  return createHash('sha256')
    .update(JSON.stringify([column, rule, [...shapes].sort()]))
    .digest('hex')
    .slice(0, 24);
}

/** `registry/<stream>/<signature>.json`, first writer wins: the first approval stands until an operator changes it. */
export const registryEntry = objectKind('registry entry', keys.registryEntry, RegistryEntrySchema, { once: true });

/** The approved function for a pattern; an entry that is not valid is no approval (the tiers after the registry decide). */
export async function findRegistered(store: ObjectStore, stream: string, signature: string): Promise<RegistryEntry | undefined> {
  try {
    return await findObject(store, registryEntry.at(stream, signature));
  } catch (error) {
    if (error instanceof VaultObjectError) return undefined;
    throw error;
  }
}

/** Registers a function unless one is registered already (race-free: first writer wins). */
export async function register(store: ObjectStore, signature: string, entry: RegistryEntry): Promise<void> {
  await putObjectIfAbsent(store, registryEntry.at(entry.stream, signature), entry);
}

/**
 * Registers a function a person approved: it replaces an entry for the pattern that holds another
 * function (a measured one that fell short, or an earlier approval), so the next batch with the
 * pattern is fixed at the registry tier with no model call. The same function already registered: nothing changes.
 */
export async function registerApproved(store: ObjectStore, signature: string, entry: RegistryEntry): Promise<void> {
  const ref = registryEntry.at(entry.stream, signature);
  // A measured entry registered between the removal and the write would stand (first writer wins): try again, a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const standing = await findRegistered(store, entry.stream, signature);
    if (standing?.approved_by === 'operator') return; // a person's approval stands (the first one, if two raced)
    if (standing || (await store.exists(ref.key))) await store.removeAllVersions(ref.key);
    if ((await putObjectIfAbsent(store, ref, entry)).created) return;
  }
}

/** Every registered function of a stream, with its signature (operators: `vaultmend registry list`). */
export async function listRegistered(store: ObjectStore, stream: string): Promise<{ signature: string; entry: RegistryEntry }[]> {
  const prefix = `registry/${stream}/`;
  const found = (await store.list(prefix)).filter((key) => key.endsWith('.json'));
  return Promise.all(
    found.map(async (key) => {
      const signature = key.slice(prefix.length, -'.json'.length);
      return { signature, entry: await readObject(store, registryEntry.at(stream, signature)) };
    }),
  );
}

/**
 * Removes a registered function, every version of it (first writer wins, so a stale version would
 * stand): the next batch with that pattern goes through the tiers again. Returns whether there was one.
 */
export async function removeRegistered(store: ObjectStore, stream: string, signature: string): Promise<boolean> {
  return (await store.removeAllVersions(registryEntry.at(stream, signature).key)) > 0;
}
