import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { StoreS3EventSchema, type StoreS3Event } from '../../lib/events/s3-event.ts';
import { TEMP_PREFIX, writeFileAtomic } from './atomic-file.ts';

/** One invocation of a queued event that failed. */
export const FailedAttemptSchema = z.object({
  attempt: z.number().int().min(1),
  started_at: z.string(),
  ended_at: z.string(),
  duration_ms: z.number().min(0),
  status: z.number().int().optional(),
  error: z.string(),
});
export type FailedAttempt = z.infer<typeof FailedAttemptSchema>;

/** A queue file's content: the event as the function will get it, and its failed attempts so far. */
export const QueueRecordSchema = z.object({
  function: z.string().min(1),
  received_at: z.string(),
  keys: z.array(z.string()),
  event: StoreS3EventSchema,
  attempts: z.array(FailedAttemptSchema),
  /** When the next attempt is due (after a failure); absent: at once. */
  retry_at: z.string().optional(),
});
export type QueueRecord = z.infer<typeof QueueRecordSchema>;

/** An event in the queue: its function, its file name in `<queue dir>/<fn>/`, and its record. */
export interface QueuedEvent {
  fn: string;
  file: string;
  record: QueueRecord;
}

/** What `load` found: the pending events (oldest first) and the files it could not read, moved to the dead letters. */
export interface LoadedQueue {
  events: QueuedEvent[];
  unreadable: string[];
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A sortable, file-name-safe time: 20260714T101112.345Z. */
function fileTime(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '');
}

/**
 * The bridge's durable queue (Lambda's async event queue), one directory per function:
 * `<queue dir>/<fn>/<time>-<uuid>.json`. A file is written (atomically) before the store is told
 * the notification arrived, and removed only when its event was delivered or dead-lettered, in
 * `<dead dir>/<fn>/<same name>`.
 */
export class QueueStore {
  constructor(
    readonly queueDir: string,
    readonly deadDir: string,
  ) {}

  /** Writes a new event for `fn` to the queue; a failure throws (the notification must then not be acknowledged). */
  async add(fn: string, event: StoreS3Event, keys: string[], now = new Date()): Promise<QueuedEvent> {
    const entry: QueuedEvent = {
      fn,
      file: `${fileTime(now)}-${randomUUID()}.json`,
      record: { function: fn, received_at: now.toISOString(), keys, event, attempts: [] },
    };
    await writeFileAtomic(this.#path(entry), `${JSON.stringify(entry.record)}\n`);
    return entry;
  }

  /** Rewrites an event's file with its record as it is now (its attempts and next retry). */
  async save(entry: QueuedEvent): Promise<void> {
    await writeFileAtomic(this.#path(entry), `${JSON.stringify(entry.record)}\n`);
  }

  /** Removes an event's file (delivered, or never acknowledged). */
  async discard(entry: QueuedEvent): Promise<void> {
    await rm(this.#path(entry), { force: true });
  }

  /** Writes `record` as the event's dead letter, then removes its queue file; returns the dead letter's path. */
  async deadLetter(entry: QueuedEvent, record: unknown): Promise<string> {
    const path = join(this.deadDir, entry.fn, entry.file);
    await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
    await this.discard(entry);
    return path;
  }

  /** How many dead letters `fn` has. */
  async countDead(fn: string): Promise<number> {
    const names = await readdir(join(this.deadDir, fn)).catch(() => [] as string[]);
    return names.filter((name) => !name.startsWith(TEMP_PREFIX)).length;
  }

  /**
   * Every pending event of `functions`, oldest first. Temporary files (a write cut short: its
   * notification was never acknowledged, so the store delivers it again) are deleted; a file
   * that does not parse is moved to the dead letters as `<name>.unreadable`.
   */
  async load(functions: readonly string[]): Promise<LoadedQueue> {
    const loaded: LoadedQueue = { events: [], unreadable: [] };
    for (const fn of functions) {
      const dir = join(this.queueDir, fn);
      await mkdir(dir, { recursive: true });
      for (const file of (await readdir(dir)).sort()) {
        const path = join(dir, file);
        if (file.startsWith(TEMP_PREFIX)) {
          await rm(path, { force: true });
          continue;
        }
        if (!file.endsWith('.json')) continue;
        const record = QueueRecordSchema.safeParse(await readJson(path));
        if (record.success && record.data.function === fn) {
          loaded.events.push({ fn, file, record: record.data });
          continue;
        }
        const dead = join(this.deadDir, fn, `${file}.unreadable`);
        await mkdir(join(this.deadDir, fn), { recursive: true });
        await rename(path, dead);
        loaded.unreadable.push(dead);
      }
    }
    return loaded;
  }

  #path(entry: QueuedEvent): string {
    return join(this.queueDir, entry.fn, entry.file);
  }
}
