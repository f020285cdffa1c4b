import type { Command } from 'commander';
import { batchStatus } from '../../lib/operators/batch-status.ts';
import { overview } from '../../lib/operators/overview.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { overviewText, statusText } from '../batch-text.ts';
import { type CliContext, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { emit } from '../output.ts';
import { batchArgument, EXIT, intervalArgument, secondsArgument, UsageError } from '../usage.ts';
import { watchBatch } from '../watch.ts';

/** The options of `status`. */
export interface StatusOptions {
  watch?: boolean;
  /** Seconds between reads of a watch (default 2). */
  interval?: number;
  /** Seconds a watch waits at most (default 600). */
  timeout?: number;
  json?: boolean;
}

/** Refuses option combinations that mean nothing: a watch without a batch, an interval or timeout without a watch. */
export function checkStatusOptions(batch: string | undefined, o: StatusOptions): void {
  if (o.watch && !batch) throw new UsageError('--watch follows one batch: vaultmend status BATCH --watch');
  if (!o.watch && (o.interval !== undefined || o.timeout !== undefined)) throw new UsageError('--interval and --timeout go with --watch');
}

/**
 * `status [BATCH] [--watch]`: one batch's status; without a batch, every stream with a contract
 * and its batches; with `--watch` (a batch needed), follows the batch to a final stage.
 */
export async function runStatus(store: ObjectStore, batch: string | undefined, o: StatusOptions, out: Out): Promise<number> {
  checkStatusOptions(batch, o);
  if (o.watch && batch) {
    return watchBatch(store, batch, { intervalMs: (o.interval ?? 2) * 1000, timeoutMs: (o.timeout ?? 600) * 1000 }, out, o.json);
  }
  if (batch) {
    const status = await batchStatus(store, batch);
    emit(out, o.json, status, () => statusText(status));
    return EXIT.ok;
  }
  const streams = await overview(store);
  emit(out, o.json, streams, () => overviewText(streams));
  return EXIT.ok;
}

/** Adds `status [BATCH] [--watch] [--interval SECONDS] [--timeout SECONDS] [--json]`. */
export function statusCommand(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .argument('[batch]', 'the batch id (none: every stream and its batches)', batchArgument)
    .option('--watch', 'follow the batch until it reaches a final stage (exit 1 for gates-failed, data-loss)')
    .option('--interval <seconds>', 'with --watch: seconds between reads (default 2)', intervalArgument)
    .option('--timeout <seconds>', 'with --watch: give up after this many seconds, exit 1 (default 600)', secondsArgument)
    .option('--json', 'print the JSON document (with --watch: one JSON line per change)')
    .description(
      'where a batch is: ingested, remediating (n of m results), reconciling, or how it ended; clusters waiting for review; the stream state. Without a batch: every stream and its batches',
    )
    .action(async (batch: string | undefined, o: StatusOptions) => {
      checkStatusOptions(batch, o);
      exitWith(await runStatus(ctx.vault(), batch, o, processOut));
    });
}
