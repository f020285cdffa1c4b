import type { Command } from 'commander';
import { listProposals, PROPOSAL_ID, type ProposalDecision, type SchemaProposal } from '../../lib/contract/schema-proposals.ts';
import { adoptProposal, type ProposalOutcome, rejectProposal } from '../../lib/streams/decide-schema.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { type CliContext, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { emit } from '../output.ts';
import { EXIT, operatorName, streamArgument, UsageError } from '../usage.ts';

/** A proposal id given on the command line: 16 hex digits, as `contracts proposals` lists them. */
function proposalArgument(text: string): string {
  if (!PROPOSAL_ID.test(text))
    throw new UsageError(`${JSON.stringify(text)} is not a schema proposal id (16 hex digits: see vaultmend contracts proposals STREAM)`);
  return text;
}

const stateOf = (decision: ProposalDecision | undefined): string =>
  decision ? `${decision.decision} by ${decision.by}${decision.reason ? ` (${decision.reason})` : ''}` : 'open';

/** One proposal for a person: its verdict, its state, and each change. */
function proposalText(p: SchemaProposal & { decision?: ProposalDecision }): string {
  const head = `${p.id}  over version ${p.base.registry_version ?? '-'}  ${p.verdict.accepted ? 'accepted' : 'halted'} (${p.verdict.rule})  ${stateOf(p.decision)}\n  first file ${p.key} (batch ${p.batch}) at ${p.proposed_at}\n`;
  const changes = p.verdict.changes.map((c) => `  ${c.kind} ${c.column}: ${c.detail}\n`).join('');
  const hints = Object.entries(p.suggested_types ?? {});
  const suggested = hints.length
    ? `  the first file's values suggest: ${hints.map(([column, type]) => `${column} ${type}`).join(', ')} (kept text here; register a contract by hand to type them)\n`
    : '';
  return head + (changes || '  no column changes (names differ in case only)\n') + suggested;
}

/** `contracts proposals STREAM`: the schema proposals of a stream, oldest first; exit 1 when it has none. */
export async function runProposals(store: ObjectStore, stream: string, out: Out, json?: boolean): Promise<number> {
  const proposals = await listProposals(store, stream);
  if (proposals.length === 0) {
    out.stderr(`stream ${stream} has no schema proposals: a file whose columns differ from the contract makes one\n`);
    return EXIT.failed;
  }
  emit(out, json, proposals, () => proposals.map(proposalText).join('\n'));
  return EXIT.ok;
}

/** What an adoption or a rejection did, for a person. */
function outcomeText(o: ProposalOutcome): string {
  const lines = [`schema proposal ${o.id} of ${o.stream}: ${o.decision.decision} by ${o.decision.by}`];
  if (o.registry_version) lines.push(`registered as version ${o.registry_version} (vaultmend contracts show ${o.stream})`);
  if (o.resumed) lines.push(`the stream was halted for drift: resumed, ${o.resumed.replayed.length} waiting file(s) replayed`);
  return `${lines.join('\n')}\n`;
}

/** `contracts adopt STREAM ID` / `contracts reject STREAM ID --reason TEXT`. */
export async function runDecide(
  store: ObjectStore,
  action: 'adopt' | 'reject',
  stream: string,
  id: string,
  decider: { by: string; reason?: string },
  out: Out,
  json?: boolean,
): Promise<number> {
  const outcome = action === 'adopt' ? await adoptProposal(store, stream, id, decider) : await rejectProposal(store, stream, id, decider);
  emit(out, json, outcome, () => outcomeText(outcome));
  return EXIT.ok;
}

/** Adds `contracts proposals | adopt | reject` to the `contracts` command. */
export function proposalCommands(contracts: Command, ctx: CliContext): void {
  contracts
    .command('proposals')
    .argument('<stream>', 'the stream name', streamArgument)
    .option('--json', 'print the JSON document')
    .description("the next contracts files' columns proposed under the stream's evolution policy, with their state")
    .action(async (stream: string, o: { json?: boolean }) => exitWith(await runProposals(ctx.vault(), stream, processOut, o.json)));
  for (const action of ['adopt', 'reject'] as const) {
    const command = contracts
      .command(action)
      .argument('<stream>', 'the stream name', streamArgument)
      .argument('<id>', 'the proposal id (contracts proposals STREAM)', proposalArgument)
      .option('--as <operator>', 'who decides (default VAULTMEND_OPERATOR, else USER)')
      .option('--json', 'print the JSON document');
    if (action === 'adopt') command.option('--reason <text>', 'a note kept with the decision');
    else command.requiredOption('--reason <text>', 'why the schema is refused (kept with the decision)');
    command
      .description(
        action === 'adopt'
          ? 'register a schema proposal as the next contract version and resume a stream halted for drift'
          : 'refuse a schema proposal: files of that schema are quarantined whole (kept in the raw vault), the stream goes on',
      )
      .action(async (stream: string, id: string, o: { as?: string; reason?: string; json?: boolean }) => {
        const decider = { by: operatorName(o.as), ...(o.reason ? { reason: o.reason } : {}) };
        exitWith(await runDecide(ctx.vault(), action, stream, id, decider, processOut, o.json));
      });
  }
}
