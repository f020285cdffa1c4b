import type { Command } from 'commander';
import { sweep, type SweepEntry } from '../../lib/replay/sweep.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { type CliContext, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { emit, table } from '../output.ts';
import { EXIT, secondsArgument } from '../usage.ts';

/** The sweep's findings as a table. */
const sweepText = (entries: SweepEntry[], dryRun: boolean): string =>
  entries.length
    ? table(
        entries.map((e) => [
          e.target,
          e.step,
          `${e.idle_seconds} s`,
          e.action,
          e.held.map((h) => `${h.holder} until ${h.lease_until}`).join(' '),
        ]),
        ['batch or raw object', 'stopped at', 'idle', dryRun ? 'found' : 'done', 'held by'],
      )
    : 'nothing has stopped: every batch is done or still moving\n';

/**
 * `sweep [--after SECONDS] [--dry-run]`: every batch stopped at any step (and every raw object no
 * batch came of), idle for at least SECONDS, re-driven from its first missing output (see
 * lib/replay/sweep.ts). Exit 1 when something needs a person: a dry run's findings, or a raw
 * object the sweep replayed before that still has no batch.
 */
export async function runSweep(
  store: ObjectStore,
  limits: { after: number; lease: number },
  dryRun: boolean,
  out: Out,
  json?: boolean,
): Promise<number> {
  const entries = await sweep(store, { afterSeconds: limits.after, leaseSeconds: limits.lease, dryRun });
  emit(out, json, entries, () => sweepText(entries, dryRun));
  return entries.some((e) => e.action === 'stalled' || e.action === 'replayed-before') ? EXIT.failed : EXIT.ok;
}

/** Adds `sweep`. */
export function sweepCommand(program: Command, ctx: CliContext): void {
  program
    .command('sweep')
    .option(
      '--after <seconds>',
      "idle at least this long (default CLAIM_LEASE_S: a dead holder's claim has run out by then)",
      secondsArgument,
    )
    .option('--dry-run', 'list what stopped, replay nothing')
    .option('--json', 'print the JSON document')
    .description('find every batch stopped at any step and re-drive it from its first missing output (run it on a schedule)')
    .action(async (o: { after?: number; dryRun?: boolean; json?: boolean }) =>
      exitWith(
        await runSweep(
          ctx.vault(),
          { after: o.after ?? ctx.config().CLAIM_LEASE_S, lease: ctx.config().CLAIM_LEASE_S },
          o.dryRun === true,
          processOut,
          o.json,
        ),
      ),
    );
}
