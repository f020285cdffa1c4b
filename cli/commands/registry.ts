import type { Command } from 'commander';
import { findRegistered, listRegistered, removeRegistered } from '../../lib/remediate/function-registry.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { type CliContext, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { emit, fields, indent, table } from '../output.ts';
import { EXIT, signatureArgument, streamArgument } from '../usage.ts';

/** `registry list STREAM`: the stream's approved functions (signature, column, rule, function, who approved). */
export async function runRegistryList(store: ObjectStore, stream: string, out: Out, json?: boolean): Promise<number> {
  const entries = (await listRegistered(store, stream)).map(({ signature, entry }) => ({
    signature,
    column: entry.column,
    rule: entry.rule,
    function: entry.function.name,
    approved_by: entry.approved_by,
  }));
  emit(out, json, entries, () =>
    entries.length
      ? table(
          entries.map((e) => [e.signature, e.column, e.rule, e.function, e.approved_by]),
          ['signature', 'column', 'rule', 'function', 'approved by'],
        )
      : `no function is registered for ${stream}\n`,
  );
  return EXIT.ok;
}

/** `registry show STREAM SIGNATURE`: one registered function, whole; exit 1 when there is none. */
export async function runRegistryShow(store: ObjectStore, stream: string, signature: string, out: Out, json?: boolean): Promise<number> {
  const entry = await findRegistered(store, stream, signature);
  if (!entry) throw new Error(`no function is registered for ${stream} ${signature} (vaultmend registry list ${stream})`);
  emit(
    out,
    json,
    { signature, ...entry },
    () =>
      fields([
        ['signature', signature],
        ['stream', entry.stream],
        ['column', entry.column],
        ['rule', entry.rule],
        ['shapes', entry.shapes.join('  ')],
        ['function', entry.function.name],
        ['reads', entry.function.reads.join(', ') || undefined],
        ['writes', entry.function.writes.join(', ') || undefined],
        ['approved by', entry.approved_by],
        [
          'origin',
          `${entry.origin.tier} tier, batch ${entry.origin.batch} cluster ${entry.origin.cluster}, confidence ${entry.origin.confidence}`,
        ],
        ['model', entry.origin.model ?? undefined],
      ]) + `source\n${indent(`${entry.function.source}\n`)}`,
  );
  return EXIT.ok;
}

/** `registry remove STREAM SIGNATURE`: removes the entry (every version); exit 1 when there was none. */
export async function runRegistryRemove(store: ObjectStore, stream: string, signature: string, out: Out, json?: boolean): Promise<number> {
  const removed = await removeRegistered(store, stream, signature);
  emit(out, json, { stream, signature, removed }, () =>
    removed ? `removed ${stream} ${signature}: the next batch with that pattern goes through the tiers again\n` : '',
  );
  if (!removed) out.stderr(`no function is registered for ${stream} ${signature} (vaultmend registry list ${stream})\n`);
  return removed ? EXIT.ok : EXIT.failed;
}

/** Adds `registry list | show | remove`. */
export function registryCommands(program: Command, ctx: CliContext): void {
  const registry = program.command('registry').description('the approved functions by (stream, column, pattern signature)');
  registry
    .command('list')
    .argument('<stream>', 'the stream', streamArgument)
    .option('--json', 'print the JSON document')
    .description("a stream's registered functions")
    .action(async (stream: string, o: { json?: boolean }) => exitWith(await runRegistryList(ctx.vault(), stream, processOut, o.json)));
  registry
    .command('show')
    .argument('<stream>', 'the stream', streamArgument)
    .argument('<signature>', 'the pattern signature (24 hex digits, as `registry list` prints it)', signatureArgument)
    .option('--json', 'print the JSON document')
    .description('one registered function, whole')
    .action(async (stream: string, signature: string, o: { json?: boolean }) =>
      exitWith(await runRegistryShow(ctx.vault(), stream, signature, processOut, o.json)),
    );
  registry
    .command('remove')
    .argument('<stream>', 'the stream', streamArgument)
    .argument('<signature>', 'the pattern signature', signatureArgument)
    .option('--json', 'print the JSON document')
    .description('remove a registered function: the next batch with that pattern goes through the tiers again')
    .action(async (stream: string, signature: string, o: { json?: boolean }) =>
      exitWith(await runRegistryRemove(ctx.vault(), stream, signature, processOut, o.json)),
    );
}
