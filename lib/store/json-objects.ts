import type { ObjectStore, PutResult } from './object-store.ts';

/** The one JSON form of every small object vaultmend writes: two-space indent, a final newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function putJson(store: ObjectStore, key: string, value: unknown): Promise<PutResult> {
  return store.put(key, jsonText(value), { contentType: 'application/json' });
}
