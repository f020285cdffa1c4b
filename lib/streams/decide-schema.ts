import { loadContract, registerContract } from '../contract/registry.ts';
import {
  decideProposal,
  loadProposal,
  type ProposalDecision,
  proposalDecision,
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
  /** Adopted while the stream was halted for drift: the resume that replayed the waiting files. */
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

/**
 * Adopts a schema proposal: the decision is recorded once, the proposed contract is registered as
 * the stream's next version (registering it again makes no new one, so a re-run after a crash
 * completes the adoption), and a stream halted for drift is resumed, which replays its waiting
 * files against the new version. A proposal made over an older version than the current one is
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
    const current = await loadContract(store, stream);
    const base = proposal.base;
    const moved = !current || current.fingerprint !== base.fingerprint || (current.registry_version ?? null) !== base.registry_version;
    if (moved && current?.fingerprint !== proposal.fingerprint) {
      const at = current?.registry_version ?? 'unversioned';
      throw new ProposalError(
        'proposal-stale',
        `schema proposal ${id} was made over version ${base.registry_version ?? 'unversioned'} of ${stream}, which is at version ${at} now: register a contract by hand (vaultmend contracts register FILE) or let the next file propose one`,
      );
    }
  }
  const written = await decideProposal(store, {
    stream,
    id,
    decision: 'adopted',
    by: decider.by,
    ...reason(decider),
    at: now.toISOString(),
  });
  if (written.decision.decision !== 'adopted') throw decidedOtherwise(written.decision);
  const registered = await registerContract(store, proposal.contract, now, `schema proposal ${id}`);
  const state = await streamState(store, stream);
  const resumed = state.state === 'halted' && state.reason === 'schema-drift' ? await resumeStream(store, stream, now) : undefined;
  return {
    stream,
    id,
    decision: written.decision,
    ...(registered.registry_version ? { registry_version: registered.registry_version } : {}),
    ...(resumed ? { resumed } : {}),
  };
}

/**
 * Rejects a schema proposal: recorded once; the stream keeps its contract, and every file of that
 * schema halts the stream (policy or not) until the source sends the registered schema again.
 *
 * @example
 * await rejectProposal(store, 'orders', '3f2a9c0d1e4b5a67', { by: 'alice', reason: 'the source must not send card numbers' });
 */
export async function rejectProposal(store: ObjectStore, stream: string, id: string, decider: Decider): Promise<ProposalOutcome> {
  await openProposal(store, stream, id);
  const at = (decider.now ?? new Date()).toISOString();
  const written = await decideProposal(store, { stream, id, decision: 'rejected', by: decider.by, ...reason(decider), at });
  if (written.decision.decision !== 'rejected') throw decidedOtherwise(written.decision);
  return { stream, id, decision: written.decision };
}

const reason = (decider: Decider): { reason?: string } => (decider.reason ? { reason: decider.reason } : {});
