import type { Command } from 'commander';
import { type AlertSink, WebhookAlertSink } from '../../lib/alerts/alerts.ts';
import { keys, parseRawKey } from '../../lib/keys.ts';
import type { BatchReport } from '../../lib/reconcile/batch-report.ts';
import { stuckBatches, type StuckBatch } from '../../lib/reconcile/stuck-batches.ts';
import { replayBatch } from '../../lib/replay/replay-batch.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { type CliContext, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { count, emit, fields, indent, percent, table } from '../output.ts';
import { batchArgument, EXIT, secondsArgument, UsageError } from '../usage.ts';

/** The report as text: status, rows per stage, the error patterns, the gates, the outputs. */
export function reportText(r: BatchReport): string {
  const s = r.stages;
  const revision = (r as { revision?: unknown }).revision;
  const head = fields([
    ['batch', r.batch],
    ['stream', r.stream],
    ['status', typeof revision === 'number' ? `${r.status} (revision ${revision})` : r.status],
    ['as of', r.as_of],
    [
      'rows',
      `${s.source}: ${s.clean} clean, ${s.suspect} suspect, ${s.fixed} fixed, ${s.quarantined} quarantined, ${s.duplicates_collapsed} duplicates collapsed`,
    ],
    ['model calls', `${r.model_calls.actual} (at most ${r.model_calls.expected} expected); reduction ${percent(r.model_call_reduction)}`],
    ['compression', r.cluster_compression === null ? undefined : percent(r.cluster_compression)],
    ['curated', r.outputs.curated],
    ['audit', r.outputs.audit ? `${r.outputs.audit} (root ${r.outputs.audit_root_hash})` : null],
  ]);
  const patterns = r.clusters.patterns.map((p) => [
    p.cluster,
    p.column,
    p.rule,
    p.cells,
    p.disposition,
    p.tier,
    p.function,
    p.confidence,
    p.model_calls,
  ]);
  const gates = r.gates.map((g) => [g.gate, g.passed ? 'passed' : 'FAILED', g.failing_rows, g.detail]);
  const reasons = Object.entries(r.quarantine_reasons);
  return [
    head,
    `${count(r.clusters.count, 'error pattern')}\n${patterns.length ? indent(table(patterns, ['cluster', 'column', 'rule', 'cells', 'disposition', 'tier', 'function', 'confidence', 'model calls'])) : ''}`,
    gates.length ? `gates\n${indent(table(gates, ['gate', 'result', 'failing rows', 'detail']))}` : 'gates none\n',
    reasons.length ? `quarantine reasons\n${indent(table(reasons))}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** `report BATCH`: the batch report (`reports/<batch>.json`); exit 1 when the batch is not reconciled yet. */
export async function runReport(store: ObjectStore, batch: string, out: Out, json?: boolean): Promise<number> {
  if (!(await store.exists(keys.report(batch)))) {
    out.stderr(`batch not reconciled yet (vaultmend status ${batch})\n`);
    return EXIT.failed;
  }
  const report = JSON.parse(await store.readText(keys.report(batch))) as BatchReport;
  emit(out, json, report, () => reportText(report));
  return EXIT.ok;
}

/** Stuck batches as a table. */
const stuckText = (stuck: StuckBatch[]): string =>
  stuck.length
    ? table(
        stuck.map((b) => [b.batch, b.clustered_at, `${b.waiting_seconds} s`, b.missing.join(' ')]),
        ['batch', 'clustered at', 'waiting', 'missing clusters'],
      ) + 're-drive one with: vaultmend replay BATCH\n'
    : 'no batch is stuck\n';

/** `stuck [--after SECONDS] [--alert]`: batches whose cluster results have not all arrived; with an alert sink, one SEV2 alert each. */
export async function runStuck(store: ObjectStore, after: number, sink: AlertSink | undefined, out: Out, json?: boolean): Promise<number> {
  const stuck = await stuckBatches(store, after);
  emit(out, json, stuck, () => stuckText(stuck));
  if (!sink) return EXIT.ok;
  for (const b of stuck) {
    await sink.post({
      severity: 'SEV2',
      component: 'reconcile',
      stream: b.stream,
      batch: b.batch,
      reason: 'batch-stuck',
      summary: `batch ${b.batch} has waited ${b.waiting_seconds} s for ${b.missing.length} cluster result(s); replay those cluster objects`,
      details: { missing: b.missing, clustered_at: b.clustered_at },
    });
  }
  return EXIT.ok;
}

/** Refuses a replay target that is neither a raw key (checked by parseRawKey) nor a batch id. */
export function checkReplayTarget(target: string): void {
  if (target.startsWith('raw/')) {
    parseRawKey(target);
    return;
  }
  if (!/^[a-z0-9][a-z0-9_-]{0,62}-[0-9a-f]{20}$/.test(target)) {
    throw new UsageError(
      `${JSON.stringify(target)} is neither a batch id (<stream>-<20 hex digits>) nor a raw object key (raw/<stream>/<file>)`,
    );
  }
}

/** `replay BATCH [--release] | replay raw/<stream>/<file>`: re-drives a half-done batch, or writes a raw object again onto itself. */
export async function runReplay(store: ObjectStore, target: string, release: boolean, out: Out, json?: boolean): Promise<number> {
  checkReplayTarget(target);
  if (target.startsWith('raw/')) {
    await store.replay(target);
    emit(out, json, { replayed: [target] }, () => `replayed ${target} (written again onto itself: ingest is notified)\n`);
    return EXIT.ok;
  }
  const { plan, replayed } = await replayBatch(store, target, release ? { release: true } : {});
  const held = plan.held.map((c) => ({ scope: c.scope, holder: c.holder, lease_until: c.lease_until }));
  emit(out, json, { batch: target, step: plan.step, replayed, held }, () => {
    if (plan.step === 'done') return `${target} is reconciled already: nothing to replay\n`;
    const lines = `${target}: ${plan.step} from ${count(replayed.length, 'object')}\n${replayed.map((k) => `  ${k}\n`).join('')}`;
    return (
      lines +
      (held.length
        ? table(
            held.map((h) => [h.scope, h.holder, h.lease_until]),
            ['held claim', 'holder', 'lease until'],
          )
        : '')
    );
  });
  if (!held.length || release) return EXIT.ok;
  out.stderr(
    `${count(held.length, 'claim')} on this work are live: their holders may still be running. Wait until the lease ends, or pass --release if they are gone.\n`,
  );
  return EXIT.failed;
}

/** Adds `report`, `stuck` and `replay`. */
export function batchCommands(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .argument('<batch>', 'the batch id', batchArgument)
    .option('--json', 'print the JSON document')
    .description('the batch report of a reconciled batch: rows per stage, error patterns, model calls, gates, outputs')
    .action(async (batch: string, o: { json?: boolean }) => exitWith(await runReport(ctx.vault(), batch, processOut, o.json)));
  program
    .command('stuck')
    .option('--after <seconds>', 'waiting longer than this (default RECONCILE_STUCK_AFTER_S)', secondsArgument)
    .option('--alert', 'also post a SEV2 alert per stuck batch to ALERT_WEBHOOK_URL (run it on a schedule)')
    .option('--json', 'print the JSON document')
    .description('batches whose cluster results have not all arrived, with the missing clusters')
    .action(async (o: { after?: number; alert?: boolean; json?: boolean }) => {
      const settings = ctx.config();
      if (o.alert && !settings.ALERT_WEBHOOK_URL) throw new UsageError('--alert needs ALERT_WEBHOOK_URL (where the alerts are posted)');
      const sink =
        o.alert && settings.ALERT_WEBHOOK_URL
          ? new WebhookAlertSink(settings.ALERT_WEBHOOK_URL, (m) => process.stderr.write(`${m}\n`))
          : undefined;
      exitWith(await runStuck(ctx.vault(), o.after ?? settings.RECONCILE_STUCK_AFTER_S, sink, processOut, o.json));
    });
  program
    .command('replay')
    .argument('<batch-or-key>', 'a batch id, or a raw object key (raw/<stream>/<file>) to upload again onto itself')
    .option('--release', 'release live claims on that work first (their holders are gone: a killed process)')
    .option('--json', 'print the JSON document')
    .description('re-drive a half-done batch from its first missing output, through the same notifications')
    .action(async (target: string, o: { release?: boolean; json?: boolean }) => {
      checkReplayTarget(target);
      exitWith(await runReplay(ctx.vault(), target, o.release === true, processOut, o.json));
    });
}
