import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { batchStatus } from '../../lib/operators/batch-status.ts';
import { overview } from '../../lib/operators/overview.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { clusterEvidence } from '../../lib/review/cluster-evidence.ts';
import { decideAsOperator, type OperatorOutcome, type OperatorRequest } from '../../lib/review/operator-decision.ts';
import type { ReviewDeps } from '../../lib/review/review-deps.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { reviewTable, waitingOf } from '../batch-text.ts';
import { type CliContext, engineOf, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { emit, jsonText, percent } from '../output.ts';
import { decisionText, evidenceText, measuredText, previewText } from '../review-text.ts';
import { batchArgument, clusterArgument, EXIT, existingFile, operatorName, UsageError } from '../usage.ts';

/** `review [BATCH]`: the clusters waiting for review, of one batch or of every batch in the vault. */
export async function runReviewList(store: ObjectStore, batch: string | undefined, out: Out, json?: boolean): Promise<number> {
  const statuses = batch ? [await batchStatus(store, batch)] : (await overview(store)).flatMap((s) => s.batches);
  const waiting = statuses.flatMap(waitingOf);
  emit(out, json, waiting, () =>
    waiting.length
      ? `${reviewTable(waiting)}see the evidence: vaultmend review BATCH CLUSTER\n`
      : `nothing waits for review${batch ? ` in ${batch}` : ''}\n`,
  );
  return EXIT.ok;
}

/** `review BATCH CLUSTER`: the evidence of one cluster, measured again, and the commands that settle it. */
export async function runEvidence(deps: ReviewDeps, batch: string, cluster: string, out: Out, json?: boolean): Promise<number> {
  const evidence = await clusterEvidence(deps, batch, cluster);
  emit(out, json, evidence, () => evidenceText(evidence));
  return EXIT.ok;
}

/** Runs `work` with the review's dependencies: the vault, the engine's limits, a sandbox (disposed at the end). */
export async function withReviewDeps<T>(ctx: CliContext, work: (deps: ReviewDeps) => Promise<T>): Promise<T> {
  const settings = ctx.config();
  const sandbox = new Sandbox({ timeoutMs: settings.SANDBOX_TIMEOUT_MS, memoryMb: settings.SANDBOX_MEMORY_MB });
  try {
    return await work({ store: ctx.vault(), workDir: settings.WORK_DIR, engine: engineOf(settings), sandbox });
  } finally {
    sandbox.dispose();
  }
}

/** How a decision is taken (decideAsOperator; tests give their own). */
export type Decide = (deps: ReviewDeps, request: OperatorRequest) => Promise<OperatorOutcome>;

/** The options of `approve`. */
export interface ApproveOptions {
  candidate?: string;
  function?: string;
  functionFile?: string;
  as?: string;
  note?: string;
  yes?: boolean;
  json?: boolean;
}

/** The request `approve` makes: exactly one of --candidate, --function, --function-file (a usage error otherwise). */
export function approveRequest(batch: string, cluster: string, o: ApproveOptions, env: NodeJS.ProcessEnv = process.env): OperatorRequest {
  const given = [o.candidate, o.function, o.functionFile].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError('name the function: exactly one of --candidate NAME, --function SOURCE, --function-file FILE');
  const note = o.note !== undefined ? { note: o.note } : {};
  if (o.candidate !== undefined) {
    if (o.candidate.trim() === '') throw new UsageError('--candidate needs a name (vaultmend review BATCH CLUSTER lists the proposals)');
    return { action: 'approve', batch, cluster, operator: operatorName(o.as, env), candidate: o.candidate, ...note };
  }
  const source = (o.function ?? readFileSync(existingFile(o.functionFile!, '--function-file'), 'utf8')).trim();
  if (source === '') throw new UsageError(`the function is empty${o.functionFile ? ` (${o.functionFile})` : ''}`);
  return { action: 'edit', batch, cluster, operator: operatorName(o.as, env), source, confirm: false, ...note };
}

/** The request `reject` makes: a reason is required (at most 2000 characters). */
export function rejectRequest(
  batch: string,
  cluster: string,
  o: { reason: string; as?: string },
  env: NodeJS.ProcessEnv = process.env,
): OperatorRequest {
  const reason = o.reason.trim();
  if (reason === '') throw new UsageError('--reason needs a text: why the cells stay quarantined');
  if (reason.length > 2000) throw new UsageError(`--reason is ${reason.length} characters long: at most 2000`);
  return { action: 'reject', batch, cluster, operator: operatorName(o.as, env), reason };
}

/** Prints an outcome (the JSON document with `json`) and gives its exit code: refused and already-decided exit 1. */
export function reportOutcome(outcome: OperatorOutcome, batch: string, out: Out, json?: boolean): number {
  if (json) out.stdout(jsonText(outcome));
  switch (outcome.status) {
    case 'decided':
      if (!json)
        out.stdout(
          `decided: ${decisionText(outcome.decision)}${outcome.measured ? `\nmeasured: ${measuredText(outcome.measured)}` : ''}\n`,
        );
      out.stderr(`re-remediation follows: vaultmend status ${batch} --watch\n`);
      return EXIT.ok;
    case 'preview':
      if (!json) out.stdout(previewText(outcome.measured));
      return EXIT.ok;
    case 'refused':
      out.stderr(`refused: ${outcome.reason}${outcome.measured ? `\nmeasured: ${measuredText(outcome.measured)}` : ''}\n`);
      return EXIT.failed;
    case 'already-decided':
      out.stderr(`already decided: ${decisionText(outcome.decision)}\n`);
      return EXIT.failed;
  }
}

/**
 * `approve`: a named candidate is decided at once; an edited function is measured first (a
 * preview, nothing written) and approved only with `yes` (measured again, then written).
 */
export async function runApprove(
  deps: ReviewDeps,
  request: OperatorRequest,
  yes: boolean,
  out: Out,
  json?: boolean,
  decide: Decide = decideAsOperator,
): Promise<number> {
  if (request.action !== 'edit') return reportOutcome(await decide(deps, request), request.batch, out, json);
  const preview = await decide(deps, { ...request, confirm: false });
  if (preview.status !== 'preview') return reportOutcome(preview, request.batch, out, json);
  if (!yes) {
    const code = reportOutcome(preview, request.batch, out, json);
    const m = preview.measured;
    out.stderr(`measured: ${m.passed}/${m.cells} cells pass (${percent(m.pass_rate)}); run again with --yes to approve\n`);
    return code;
  }
  return reportOutcome(await decide(deps, { ...request, confirm: true }), request.batch, out, json);
}

/** `reject`: the cells stay quarantined, with the reason. */
export async function runReject(
  deps: ReviewDeps,
  request: OperatorRequest,
  out: Out,
  json?: boolean,
  decide: Decide = decideAsOperator,
): Promise<number> {
  return reportOutcome(await decide(deps, request), request.batch, out, json);
}

/** Adds `review [BATCH [CLUSTER]]`, `approve` and `reject`. */
export function reviewCommands(program: Command, ctx: CliContext): void {
  program
    .command('review')
    .argument('[batch]', 'the batch id (none: every batch)', batchArgument)
    .argument('[cluster]', 'a cluster of the batch: its evidence', clusterArgument)
    .option('--json', 'print the JSON document')
    .description('the clusters waiting for review (of every batch, or of one); with a cluster, its evidence measured again')
    .action(async (batch: string | undefined, cluster: string | undefined, o: { json?: boolean }) => {
      if (!batch || !cluster) return exitWith(await runReviewList(ctx.vault(), batch, processOut, o.json));
      exitWith(await withReviewDeps(ctx, (deps) => runEvidence(deps, batch, cluster, processOut, o.json)));
    });
  program
    .command('approve')
    .argument('<batch>', 'the batch id', batchArgument)
    .argument('<cluster>', 'the cluster waiting for review', clusterArgument)
    .option('--candidate <name>', 'approve a proposal by its name (as `vaultmend review BATCH CLUSTER` lists them)')
    .option('--function <source>', 'approve a function of your own (measured first; --yes approves it)')
    .option('--function-file <file>', 'the same, read from a file')
    .option('--as <operator>', 'who decides (default VAULTMEND_OPERATOR, else USER)')
    .option('--note <text>', 'a note kept with the decision')
    .option('--yes', 'with --function or --function-file: approve after measuring (without it: measure only)')
    .option('--json', 'print the JSON document')
    .description('approve a function for a cluster waiting for review; its cells are remediated again with it')
    .action(async (batch: string, cluster: string, o: ApproveOptions) => {
      const request = approveRequest(batch, cluster, o);
      exitWith(await withReviewDeps(ctx, (deps) => runApprove(deps, request, o.yes === true, processOut, o.json)));
    });
  program
    .command('reject')
    .argument('<batch>', 'the batch id', batchArgument)
    .argument('<cluster>', 'the cluster waiting for review', clusterArgument)
    .requiredOption('--reason <text>', 'why: kept with the decision, the cells stay quarantined')
    .option('--as <operator>', 'who decides (default VAULTMEND_OPERATOR, else USER)')
    .option('--json', 'print the JSON document')
    .description("reject a cluster's fixes: its cells stay quarantined with the reason")
    .action(async (batch: string, cluster: string, o: { reason: string; as?: string; json?: boolean }) => {
      const request = rejectRequest(batch, cluster, o);
      exitWith(await withReviewDeps(ctx, (deps) => runReject(deps, request, processOut, o.json)));
    });
}
