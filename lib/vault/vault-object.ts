import type { z } from 'zod';
import { StoreError, VaultmendError } from '../errors.ts';
import { jsonText } from '../store/json-objects.ts';
import type { ObjectStore } from '../store/object-store.ts';

/** A vault object whose text is not what its kind's schema says (named by kind and key). */
export class VaultObjectError extends VaultmendError {
  constructor(kind: string, key: string, why: string, options?: { cause?: unknown }) {
    super('vault-object-invalid', `${kind} at ${key} is not valid: ${why}`, options);
  }
}

/** One object of the vault: its key, its schema, and how it is written. */
export interface ObjectRef<T> {
  readonly kind: string;
  readonly key: string;
  readonly schema: z.ZodType<T>;
  /** Written first-writer-wins (`putIfAbsent`): read at its first version, never the current one. */
  readonly once: boolean;
  readonly serialise: (value: T) => string;
}

/** A kind of vault object (a row of the README's key table): `at(...)` names one object of it. */
export interface ObjectKind<A extends unknown[], T> {
  readonly kind: string;
  at(...args: A): ObjectRef<T>;
}

/**
 * Declares a kind of vault object once: its key function and its zod schema (and, for
 * objects written first-writer-wins, `once`). Every read and write goes through it.
 *
 * @example
 * const decision = objectKind('decision', (batch: string, cluster: string) => `decisions/${batch}/${cluster}.json`, DecisionSchema, { once: true });
 * const stored = await findObject(store, decision.at(batch, cluster));
 */
export function objectKind<A extends unknown[], T>(
  kind: string,
  key: (...args: A) => string,
  schema: z.ZodType<T>,
  options: { once?: boolean; serialise?: (value: T) => string } = {},
): ObjectKind<A, T> {
  const serialise = options.serialise ?? ((value: T) => jsonText(value));
  return { kind, at: (...args: A) => ({ kind, key: key(...args), schema, once: options.once ?? false, serialise }) };
}

function parse<T>(ref: ObjectRef<T>, text: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new VaultObjectError(ref.kind, ref.key, 'not JSON', { cause: error });
  }
  const parsed = ref.schema.safeParse(json);
  if (!parsed.success)
    throw new VaultObjectError(
      ref.kind,
      ref.key,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  return parsed.data;
}

/** The object, checked against its schema; undefined when there is none. */
export async function findObject<T>(store: ObjectStore, ref: ObjectRef<T>): Promise<T | undefined> {
  if (ref.once) {
    const text = await store.readFirst(ref.key);
    return text === undefined ? undefined : parse(ref, text);
  }
  if (!(await store.exists(ref.key))) return undefined;
  return parse(ref, await store.readText(ref.key));
}

/** The object, checked against its schema; a StoreError naming it when there is none. */
export async function readObject<T>(store: ObjectStore, ref: ObjectRef<T>): Promise<T> {
  const found = await findObject(store, ref);
  if (found === undefined) throw new StoreError(`no ${ref.kind} at ${ref.key}`);
  return found;
}

/** Writes the object (checked against its schema first). First-writer-wins kinds must use putObjectIfAbsent. */
export async function writeObject<T>(store: ObjectStore, ref: ObjectRef<T>, value: T): Promise<void> {
  if (ref.once) throw new Error(`${ref.kind} is written once: use putObjectIfAbsent`);
  await store.put(ref.key, ref.serialise(ref.schema.parse(value)), { contentType: 'application/json' });
}

/** Writes the object unless one exists (first writer wins); returns the one that stands. */
export async function putObjectIfAbsent<T>(store: ObjectStore, ref: ObjectRef<T>, value: T): Promise<{ created: boolean; value: T }> {
  const checked = ref.schema.parse(value);
  const written = await store.putIfAbsent(ref.key, ref.serialise(checked), { contentType: 'application/json' });
  return written.created ? { created: true, value: checked } : { created: false, value: parse(ref, written.text) };
}
