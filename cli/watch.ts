import { batchStatus, type BatchStatus } from '../lib/operators/batch-status.ts';
import type { ObjectStore } from '../lib/store/object-store.ts';
import { resultsText, revisionOf, rowsText, stageText } from './batch-text.ts';
import type { Out } from './io.ts';
import { EXIT } from './usage.ts';

/** How often to look, for how long at most, and (for tests) the clock and the pause. */
export interface WatchOptions {
  intervalMs: number;
  timeoutMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The stages a watch ends at, with its exit code and what to say. `waiting-for-review` ends it
 * too: a person must act. Any other stage (`revising`, one added later) is watched on.
 */
const FINAL: Record<string, { code: number; say: (batch: string) => string }> = {
  promoted: { code: EXIT.ok, say: (b) => `${b} is promoted (vaultmend report ${b})` },
  'object-quarantined': { code: EXIT.ok, say: (b) => `${b}: the whole object was quarantined at ingest (vaultmend report ${b})` },
  'gates-failed': { code: EXIT.failed, say: (b) => `${b}: a promotion gate failed, nothing was promoted (vaultmend report ${b})` },
  'data-loss': {
    code: EXIT.failed,
    say: (b) => `${b}: the row ledger does not balance (data-loss), nothing was promoted (vaultmend report ${b})`,
  },
  'waiting-for-review': { code: EXIT.ok, say: (b) => `${b} waits for review: a person must act (vaultmend review ${b})` },
};

/** Whether a stage ends a watch (unknown stages do not). */
export const isFinalStage = (stage: string): boolean => Object.hasOwn(FINAL, stage);

/** What a watch compares between two reads: a line is printed when it changes. */
const progressOf = (s: BatchStatus): string => JSON.stringify([s.stage, s.results, s.rows, revisionOf(s) ?? null]);

/** One line of a watch: `12:00:01 remediating  results 1/2`. */
function progressLine(s: BatchStatus, at: number): string {
  const parts = [new Date(at).toISOString().slice(11, 19), stageText(s)];
  if (s.results) parts.push(`results ${resultsText(s.results)}`);
  if (s.rows) parts.push(`rows ${rowsText(s.rows)}`);
  if (s.waiting_for_review.length) parts.push(`review ${s.waiting_for_review.length}`);
  return `${parts.join('  ')}\n`;
}

/**
 * `status BATCH --watch`: reads the batch's status every interval and prints a line (a JSON line
 * with `json`) whenever its stage, results, rows or revision change; ends at a final stage with
 * its exit code (see FINAL), or with exit 1 after the timeout.
 */
export async function watchBatch(store: ObjectStore, batch: string, o: WatchOptions, out: Out, json?: boolean): Promise<number> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + o.timeoutMs;
  let last: string | undefined;
  for (;;) {
    const status = await batchStatus(store, batch);
    if (progressOf(status) !== last) out.stdout(json ? `${JSON.stringify(status)}\n` : progressLine(status, now()));
    last = progressOf(status);
    const final = FINAL[status.stage];
    if (final) {
      out.stderr(`${final.say(batch)}\n`);
      return final.code;
    }
    if (now() >= deadline) {
      out.stderr(`timed out after ${Math.round(o.timeoutMs / 1000)} s watching ${batch} (it is still ${stageText(status)})\n`);
      return EXIT.failed;
    }
    await sleep(Math.min(o.intervalMs, Math.max(0, deadline - now())));
  }
}
