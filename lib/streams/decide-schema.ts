import { loadContract, registerContractAs } from '../contract/registry.ts';
import {
  decideProposal,
  loadProposal,
  type ProposalDecision,
  proposalDecision,
  recordRejection,
  type SchemaProposal,
} from '../contract/schema-proposals.ts';
import { VaultmendError } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { type ResumeResult, resumeStream } from './resume-stream.ts';
import { streamState } from './stream-control.ts';

/** A proposal that cannot be decided as asked: unknown, decided the other way already, or proposed over an older version. */
export class ProposalError extends VaultmendError {
  constructor(code: 'proposal-unknown' | 'proposal-decided' | 'proposal-stale', message: string) {
    super(code, message);
  }
}

/** What an operator's decision on a schema proposal did. */
export interface ProposalOutcome {
  stream: string;
  id: string;
  decision: ProposalDecision;
  /** Adopted: the registry version the proposed contract now is. */
  registry_version?: number;
  /** Decided while the stream was halted for drift: the resume that replayed the waiting files. */
  resumed?: ResumeResult;
}

/** Who decides, why, and when. */
export interface Decider {
  by: string;
  reason?: string;
  now?: Date;
}

async function openProposal(store: ObjectStore, stream: string, id: string): Promise<SchemaProposal> {
  const proposal = await loadProposal(store, stream, id);
  if (!proposal)
    throw new ProposalError(
      'proposal-unknown',
      `stream ${stream} has no schema proposal ${id}: \`vaultmend contracts proposals ${stream}\` lists them`,
    );
  return proposal;
}

function decidedOtherwise(decision: ProposalDecision): ProposalError {
  return new ProposalError(
    'proposal-decided',
    `schema proposal ${decision.id} of ${decision.stream} was ${decision.decision} by ${decision.by} at ${decision.at}; a decision stands`,
  );
}

/** Refused: the stream's contract moved on since the proposal was made over it. */
function stale(proposal: SchemaProposal, now: number | null): ProposalError {
  const { stream, id, base } = proposal;
  return new ProposalError(
    'proposal-stale',
    `schema proposal ${id} was made over version ${base.registry_version ?? 'unversioned'} of ${stream}, which is at version ${now ?? 'unversioned'} now: register a contract by hand (vaultmend contracts register FILE), or resume the stream (vaultmend stream resume ${stream}) so that its waiting file proposes again over the current version`,
  );
}

/** The registry version of the stream's current contract (null: registered before versions were kept, or none). */
async function currentVersion(store: ObjectStore, stream: string): Promise<number | null> {
  return (await loadContract(store, stream))?.registry_version ?? null;
}

/** A halted-for-drift stream resumed (its waiting files replayed), or undefined when it was not halted for drift. */
async function resumeDrifted(store: ObjectStore, stream: string, now: Date): Promise<ResumeResult | undefined> {
  const state = await streamState(store, stream);
  return state.state === 'halted' && state.reason === 'schema-drift' ? resumeStream(store, stream, now) : undefined;
}

/**
 * Adopts a schema proposal: the decision is recorded once (adopt and reject exclude each other),
 * then the proposed contract is registered as exactly the version after the one it was proposed
 * over (written first-writer-wins, so two adoptions over one version, or an adoption racing a
 * registration by hand, cannot both land), and a stream halted for drift is resumed, which
 * replays its waiting files. A re-run after a crash completes the same adoption and never
 * registers it a second time. A proposal made over an older version than the current one is
 * refused as stale: adopting it would undo what was registered since.
 *
 * @example
 * const { registry_version } = await adoptProposal(store, 'orders', '3f2a9c0d1e4b5a67', { by: 'alice' });
 */
export async function adoptProposal(store: ObjectStore, stream: string, id: string, decider: Decider): Promise<ProposalOutcome> {
  const proposal = await openProposal(store, stream, id);
  const now = decider.now ?? new Date();
  const earlier = await proposalDecision(store, stream, id);
  if (earlier && earlier.decision !== 'adopted') throw decidedOtherwise(earlier);
  if (!earlier) {
    const current = await currentVersion(store, stream);
    if (current !== proposal.base.registry_version) throw stale(proposal, current);
  }
  const decision = await decideProposal(store, {
    stream,
    id,
    decision: 'adopted',
    by: decider.by,
    ...reason(decider),
    at: now.toISOString(),
  });
  if (decision.decision !== 'adopted') throw decidedOtherwise(decision);
  const version = (proposal.base.registry_version ?? 0) + 1;
  const registered = await registerContractAs(store, proposal.contract, version, now, `schema proposal ${id}`);
  if (!registered.registered) throw stale(proposal, await currentVersion(store, stream));
  const resumed = await resumeDrifted(store, stream, now);
  return { stream, id, decision, registry_version: version, ...(resumed ? { resumed } : {}) };
}

/**
 * Rejects a schema proposal: the decision is recorded once, and so is the rejected schema (by its
 * fingerprint, whatever version a later file proposes it over): every file of that schema is
 * quarantined whole from now on (kept in the raw vault, reason `schema-rejected`) while the stream
 * goes on. A stream halted for drift is resumed, so its waiting files of that schema are
 * quarantined and the others go their way. A re-run completes the same rejection.
 *
 * @example
 * await rejectProposal(store, 'orders', '3f2a9c0d1e4b5a67', { by: 'alice', reason: 'the source must not send card numbers' });
 */
export async function rejectProposal(store: ObjectStore, stream: string, id: string, decider: Decider): Promise<ProposalOutcome> {
  const proposal = await openProposal(store, stream, id);
  const now = decider.now ?? new Date();
  const at = now.toISOString();
  const decision = await decideProposal(store, { stream, id, decision: 'rejected', by: decider.by, ...reason(decider), at });
  if (decision.decision !== 'rejected') throw decidedOtherwise(decision);
  const { by, reason: why } = decision;
  await recordRejection(store, { stream, fingerprint: proposal.fingerprint, proposal: id, by, ...(why ? { reason: why } : {}), at });
  const resumed = await resumeDrifted(store, stream, now);
  return { stream, id, decision, ...(resumed ? { resumed } : {}) };
}

const reason = (decider: Decider): { reason?: string } => (decider.reason ? { reason: decider.reason } : {});
