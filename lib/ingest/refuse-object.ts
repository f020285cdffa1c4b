import { keys, objectVersionId } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { putJson } from '../store/json-objects.ts';

export type RefusalReason = 'key-unsafe' | 'unknown-stream' | 'ingest-failed';

export interface Refused {
  status: 'refused';
  key: string;
  reason: RefusalReason;
  record: string;
}

/** Records an object that is kept in the vault but not processed, keyed by its key and version. */
export async function refuseObject(
  store: ObjectStore,
  object: { key: string; versionId?: string },
  reason: RefusalReason,
  detail: string,
  at: Date,
  stream?: string,
): Promise<Refused> {
  const id = objectVersionId(object.key, object.versionId);
  const record = keys.refusedObject(id);
  await putJson(store, record, {
    key: object.key,
    version_id: object.versionId ?? null,
    stream: stream ?? null,
    reason,
    detail,
    at: at.toISOString(),
  });
  return { status: 'refused', key: object.key, reason, record };
}
