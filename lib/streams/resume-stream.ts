import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { setStreamState, streamState, WaitingFileSchema } from './stream-control.ts';

export interface ResumeResult {
  stream: string;
  wasHalted: boolean;
  replayed: string[];
}

/**
 * An operator resumes a halted stream (usually after registering the contract that matches
 * the new schema): the stream runs again and every waiting file is replayed, in arrival
 * order, by writing its vault version again, which notifies the flow as an upload does.
 */
export async function resumeStream(store: ObjectStore, stream: string, now = new Date()): Promise<ResumeResult> {
  const state = await streamState(store, stream);
  await setStreamState(store, { stream, state: 'running', reason: null, batch: null, since: now.toISOString() });
  const markers = await store.list(keys.waitingPrefix(stream));
  const waiting = await Promise.all(markers.map(async (key) => ({ key, file: WaitingFileSchema.parse(JSON.parse(await store.readText(key))) })));
  waiting.sort((a, b) => a.file.since.localeCompare(b.file.since));
  const replayed: string[] = [];
  for (const { key, file } of waiting) {
    await store.replay(file.key, file.version_id ?? undefined);
    await store.remove(key);
    replayed.push(file.key);
  }
  return { stream, wasHalted: state.state === 'halted', replayed };
}
