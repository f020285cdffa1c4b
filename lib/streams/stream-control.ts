import { z } from 'zod';
import { keys, objectVersionId } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { putJson } from '../store/json-objects.ts';
import { findObject, objectKind, writeObject } from '../vault/vault-object.ts';

/**
 * A stream is running or halted; the state is an object in the vault, so every function
 * instance and the operator see the same thing. Files that arrive while a stream is halted
 * are recorded as waiting (the raw objects stay in the vault) and are replayed on resume.
 */
export const StreamStateSchema = z.object({
  stream: z.string(),
  state: z.enum(['running', 'halted']),
  reason: z.string().nullable(),
  batch: z.string().nullable(),
  since: z.string(),
});
export type StreamState = z.infer<typeof StreamStateSchema>;

export const WaitingFileSchema = z.object({
  key: z.string(),
  version_id: z.string().nullable(),
  batch: z.string(),
  since: z.string(),
});
export type WaitingFile = z.infer<typeof WaitingFileSchema>;

/** `control/<stream>/state.json`: running or halted (absent: running). */
export const streamStateObject = objectKind('stream state', keys.streamState, StreamStateSchema);
/** A marker under `control/<stream>/waiting/`, named by its listed key. */
export const waitingFileObject = objectKind('waiting file', (key: string) => key, WaitingFileSchema);

/** The stream's state; a stream never halted is running. */
export async function streamState(store: ObjectStore, stream: string): Promise<StreamState> {
  return (
    (await findObject(store, streamStateObject.at(stream))) ?? {
      stream,
      state: 'running',
      reason: null,
      batch: null,
      since: new Date(0).toISOString(),
    }
  );
}

/** Sets the stream's state (halted by drift or the breaker, running again on resume). */
export async function setStreamState(store: ObjectStore, state: StreamState): Promise<void> {
  await writeObject(store, streamStateObject.at(state.stream), state);
}

/** One marker per raw object version: recording the same arrival twice is harmless. */
export function waitingKey(stream: string, key: string, versionId: string | null): string {
  return keys.waiting(stream, objectVersionId(key, versionId));
}

export async function recordWaiting(store: ObjectStore, stream: string, file: WaitingFile): Promise<void> {
  await putJson(store, waitingKey(stream, file.key, file.version_id), file);
}
