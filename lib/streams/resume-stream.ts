import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { acceptBatch } from './halt-for-failures.ts';
import { setStreamState, streamState, waitingFileObject } from './stream-control.ts';
import { readObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';

const MAX_PASSES = 5;

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
export async function resumeStream(
  store: ObjectStore,
  stream: string,
  now = new Date(),
  options: { accept?: boolean } = {},
): Promise<ResumeResult> {
  const state = await streamState(store, stream);
  // Accepting: the batch that tripped the breaker goes through on its replay.
  if (options.accept && state.state === 'halted' && state.batch) await acceptBatch(store, stream, state.batch, now);
  // A replayed file gets a fresh retry budget: its earlier failures were the halt's cause.
  const attempts = await Promise.all(
    (await store.list('control/_attempts/')).map(async (key) => ({
      key,
      record: await readObject(store, vaultObjects.ingestAttempts.at(key)),
    })),
  );
  await setStreamState(store, { stream, state: 'running', reason: null, batch: null, since: now.toISOString() });
  const replayed: string[] = [];
  // Listed again after each pass: a marker written just before the resume may show up late.
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const markers = await store.list(keys.waitingPrefix(stream));
    if (markers.length === 0) break;
    // A marker removed in an earlier pass can still be listed; it is skipped, not replayed twice.
    const present = (await Promise.all(markers.map(async (key) => ((await store.exists(key)) ? key : undefined)))).filter(
      (key): key is string => key !== undefined,
    );
    if (present.length === 0) break;
    const waiting = await Promise.all(present.map(async (key) => ({ key, file: await readObject(store, waitingFileObject.at(key)) })));
    waiting.sort((a, b) => a.file.since.localeCompare(b.file.since));
    for (const { key, file } of waiting) {
      for (const attempt of attempts.filter((a) => a.record.key === file.key)) await store.remove(attempt.key);
      await store.replay(file.key, file.version_id ?? undefined);
      await store.remove(key);
      replayed.push(file.key);
    }
  }
  return { stream, wasHalted: state.state === 'halted', replayed };
}
