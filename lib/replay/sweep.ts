import { safeErrorMessage } from '../errors.ts';
import { keys, objectVersionId, RAW_PREFIX } from '../keys.ts';
import { listBatches } from '../operators/overview.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { waitingKey } from '../streams/stream-control.ts';
import { vaultObjects } from '../vault/objects.ts';
import { findObject, readObject, writeObject } from '../vault/vault-object.ts';
import { BatchUnknownError, planReplay } from './replay-batch.ts';

/** How often the sweep replays a raw object no batch comes of before it leaves it to a person. */
export const RAW_REPLAYS = 3;

/** What the sweep found for one batch (or one raw object no batch came of) and what it did. */
export interface SweepEntry {
  /** The batch id, or the raw key for an object never ingested. */
  target: string;
  step: 'ingest' | 'cluster' | 'remediate' | 'reconcile' | 'review' | 'revise';
  /** Seconds since the newest object the stopped step was notified of. */
  idle_seconds: number;
  /** `replayed`: re-driven now; `error`: it could not be read or re-driven (see `error`); `held`: a live claim (its holder may still run, or died within its lease); `stalled`: found, not replayed (a dry run); `replayed-before`: a raw object the sweep already replayed once. */
  action: 'replayed' | 'held' | 'stalled' | 'replayed-before' | 'error';
  /** Why the sweep could not read or re-drive it (action `error`). */
  error?: string;
  objects: string[];
  held: { scope: string; holder: string; lease_until: string }[];
}

/**
 * Finds every batch that stopped at any step — no cluster manifest, cluster objects or results
 * missing, no reconcile manifest after its results, a decision not applied, a reviewed result no
 * revision covers — and every raw object no ingest manifest, refusal or waiting record accounts
 * for, idle for at least `afterSeconds`; and, unless `dryRun`, re-drives each from its first
 * missing output through the same notifications (`replayBatch`'s plan). Work under a live claim is
 * left to its holder (after the lease a later sweep re-drives it, and the delivery takes the claim
 * over). A raw object is replayed at most RAW_REPLAYS times, a lease apart (`leaseSeconds`: a killed
 * ingest's claim must run out before a replay can take it over), so an object whose ingest keeps
 * dying is not replayed for ever; then it is listed as `replayed-before`.
 *
 * @example
 * for (const entry of await sweep(store, { afterSeconds: 600 })) console.log(entry.target, entry.step, entry.action);
 */
export async function sweep(
  store: ObjectStore,
  options: { afterSeconds: number; leaseSeconds?: number; dryRun?: boolean; now?: Date },
): Promise<SweepEntry[]> {
  const now = options.now ?? new Date();
  const entries: SweepEntry[] = [];
  const named = new Set<string>();
  // One object that cannot be read or re-driven is reported, and the sweep goes on with the rest.
  const guarded = async (target: string, step: SweepEntry['step'], work: () => Promise<SweepEntry | undefined>) => {
    try {
      const entry = await work();
      if (entry) entries.push(entry);
    } catch (error) {
      entries.push({ target, step, idle_seconds: 0, action: 'error', objects: [], held: [], error: safeErrorMessage(error) });
    }
  };
  for (const batch of await listBatches(store)) {
    await guarded(batch, 'cluster', async () => {
      const ingest = await readObject(store, vaultObjects.ingestManifest.at(batch));
      named.add(objectVersionId(ingest.source.key, ingest.source.version_id));
      return sweepBatch(store, batch, options.afterSeconds, now, options.dryRun === true);
    });
  }
  const limits = { after: options.afterSeconds, lease: options.leaseSeconds ?? 360 };
  for (const key of await store.list(RAW_PREFIX)) {
    await guarded(key, 'ingest', () => sweepRaw(store, key, named, limits, now, options.dryRun === true));
  }
  return entries;
}

/** One batch: its plan, idle time, and the replay unless held, fresh or a dry run. */
async function sweepBatch(store: ObjectStore, batch: string, after: number, now: Date, dryRun: boolean): Promise<SweepEntry | undefined> {
  let plan;
  try {
    plan = await planReplay(store, batch, now);
  } catch (error) {
    if (error instanceof BatchUnknownError) return undefined;
    throw error;
  }
  if (plan.step === 'done') return undefined;
  const idle = await idleSeconds(store, plan.replay, now);
  if (idle < after) return undefined;
  const held = plan.held.map((c) => ({ scope: c.scope, holder: c.holder, lease_until: c.lease_until }));
  const base = { target: batch, step: plan.step, idle_seconds: idle, objects: plan.replay, held };
  if (held.length) return { ...base, action: 'held' };
  if (dryRun) return { ...base, action: 'stalled' };
  for (const key of plan.replay) await store.replay(key);
  return { ...base, action: 'replayed' };
}

/** A raw object no manifest names: accounted for when refused or waiting; else replayed, a lease apart, RAW_REPLAYS times at most. */
async function sweepRaw(
  store: ObjectStore,
  key: string,
  named: Set<string>,
  limits: { after: number; lease: number },
  now: Date,
  dryRun: boolean,
): Promise<SweepEntry | undefined> {
  const versions = await store.versions(key);
  const current = versions.at(-1);
  if (!current) return undefined;
  const idle = Math.round((now.getTime() - current.modifiedAt.getTime()) / 1000);
  if (idle < limits.after) return undefined;
  const version = current.versionId ?? null;
  const id = objectVersionId(key, version);
  if (named.has(id)) return undefined;
  // Accounted for: refused, waiting on a halted stream, or found already ingested (its content is a batch).
  if (await store.exists(keys.refusedObject(id))) return undefined;
  const stream = key.slice(RAW_PREFIX.length).split('/')[0] ?? '';
  if (await store.exists(waitingKey(stream, key, version))) return undefined;
  if (await store.exists(keys.seenObject(id))) return undefined;
  const base = { target: key, step: 'ingest' as const, idle_seconds: idle, objects: [key], held: [] };
  // By key: each replay makes a new version of the object, which is still the same upload.
  const marker = vaultObjects.sweptObject.at(objectVersionId(key, null));
  const found = await findObject(store, marker);
  const before = found?.versions.includes(version) ? found : undefined;
  if (before && before.replays >= RAW_REPLAYS) return { ...base, action: 'replayed-before' };
  if (before && now.getTime() - Date.parse(before.at) < limits.lease * 1000) return { ...base, action: 'held', held: [] };
  if (dryRun) return { ...base, action: 'stalled' };
  const replayed = await store.replay(key, current.versionId);
  await writeObject(store, marker, {
    key,
    at: now.toISOString(),
    replays: (before?.replays ?? 0) + 1,
    versions: [...(before?.versions ?? [version]), replayed.versionId ?? null],
  });
  return { ...base, action: 'replayed' };
}

/** Seconds since the newest of `objects` was written. */
async function idleSeconds(store: ObjectStore, objects: string[], now: Date): Promise<number> {
  const times = await Promise.all(objects.map((k) => store.modifiedAt(k)));
  const newest = Math.max(...times.map((t) => t?.getTime() ?? 0));
  return Math.round((now.getTime() - newest) / 1000);
}
