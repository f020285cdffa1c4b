import type { Command } from 'commander';
import { keys } from '../../lib/keys.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { resumeStream } from '../../lib/streams/resume-stream.ts';
import { type StreamState, streamState } from '../../lib/streams/stream-control.ts';
import { z } from 'zod';
import { type CliContext, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { count, emit, fields } from '../output.ts';
import { EXIT, streamArgument } from '../usage.ts';

/** A drift report as the status reads it: the rule that fired and the operator's ways out. */
const DriftSummarySchema = z.object({
  rule: z.string().optional(),
  actions: z.array(z.object({ action: z.string(), command: z.string(), effect: z.string() })).optional(),
});

/** The drift report of the batch that halted the stream, when it halted for drift and the report is there. */
async function driftOf(store: ObjectStore, state: StreamState): Promise<z.infer<typeof DriftSummarySchema> | undefined> {
  if (state.state !== 'halted' || state.reason !== 'schema-drift' || !state.batch) return undefined;
  const key = keys.driftReport(state.stream, state.batch);
  if (!(await store.exists(key))) return undefined;
  return DriftSummarySchema.safeParse(JSON.parse(await store.readText(key))).data;
}

/** What to do about a halt: the drift report's actions, or resume. */
function haltAdvice(stream: string, drift: z.infer<typeof DriftSummarySchema> | undefined): string {
  if (!drift?.actions?.length) return `resume it with: vaultmend stream resume ${stream} [--accept]\n`;
  return `${drift.actions.map((a) => `${a.action}: ${a.command}\n  ${a.effect}\n`).join('')}`;
}

/** `stream status STREAM`: running or halted (and why, since when, which batch; for drift the rule and the ways out), and how many files wait. */
export async function runStreamStatus(store: ObjectStore, stream: string, out: Out, json?: boolean): Promise<number> {
  const state = await streamState(store, stream);
  const drift = await driftOf(store, state);
  const status = { ...state, waiting: (await store.list(keys.waitingPrefix(stream))).length, ...(drift ? { drift } : {}) };
  emit(
    out,
    json,
    status,
    () =>
      fields([
        ['stream', status.stream],
        ['state', status.state],
        ['reason', status.state === 'halted' ? status.reason : undefined],
        ['batch', status.state === 'halted' ? status.batch : undefined],
        ['since', status.state === 'halted' ? status.since : undefined],
        ['rule', drift?.rule],
        ['waiting', count(status.waiting, 'file')],
      ]) + (status.state === 'halted' ? haltAdvice(stream, drift) : ''),
  );
  return EXIT.ok;
}

/** `stream resume STREAM [--accept]`: sets the stream running and replays the files that waited. */
export async function runResume(store: ObjectStore, stream: string, accept: boolean, out: Out, json?: boolean): Promise<number> {
  const result = await resumeStream(store, stream, new Date(), { accept });
  emit(out, json, result, () => {
    const head = result.wasHalted ? `${stream} was halted and runs again` : `${stream} was running`;
    return `${head}; replayed ${count(result.replayed.length, 'file')}\n${result.replayed.map((k) => `  ${k}\n`).join('')}`;
  });
  return EXIT.ok;
}

/** Adds `stream status | resume`. */
export function streamCommands(program: Command, ctx: CliContext): void {
  const stream = program.command('stream').description('stream control: halt state and waiting files');
  stream
    .command('status')
    .argument('<stream>', 'the stream name', streamArgument)
    .option('--json', 'print the JSON document')
    .description('running or halted (and why), and how many files wait')
    .action(async (name: string, o: { json?: boolean }) => exitWith(await runStreamStatus(ctx.vault(), name, processOut, o.json)));
  stream
    .command('resume')
    .argument('<stream>', 'the stream name', streamArgument)
    .option('--accept', 'let the batch that tripped the failing-share breaker through on its replay')
    .option('--json', 'print the JSON document')
    .description('set a halted stream running and replay the files that waited')
    .action(async (name: string, o: { accept?: boolean; json?: boolean }) =>
      exitWith(await runResume(ctx.vault(), name, o.accept === true, processOut, o.json)),
    );
}
