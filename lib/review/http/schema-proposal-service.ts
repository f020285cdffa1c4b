import { loadContract } from '../../contract/registry.ts';
import { listProposals } from '../../contract/schema-proposals.ts';
import type { StreamOverview } from '../../operators/overview.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { adoptProposal, type ProposalOutcome, rejectProposal } from '../../streams/decide-schema.ts';
import type { ListedSchemaProposal } from '../pages/schema-proposals-page.ts';

/** An operator's decision on a schema proposal, as the proposals page's forms post it. */
export type SchemaProposalRequest =
  | { action: 'adopt'; stream: string; id: string; operator: string }
  | { action: 'reject'; stream: string; id: string; operator: string; reason: string };

/** The review service's schema proposal part (see ReviewService). */
export interface SchemaProposalService {
  /** A stream's proposals, newest first; undefined when the stream is unknown (404). */
  schemaProposals(stream: string): Promise<ListedSchemaProposal[] | undefined>;
  /** Adopts or rejects one; throws ProposalError when it cannot be decided as asked. */
  decideSchemaProposal(request: SchemaProposalRequest): Promise<ProposalOutcome>;
}

/**
 * Schema proposals over the vault: a stream's proposals newest first (undefined for a stream
 * with neither a contract nor a proposal), and adopt / reject through decide-schema.ts (which
 * throws ProposalError when the proposal is unknown, decided already or stale).
 */
export function schemaProposalService(store: ObjectStore): SchemaProposalService {
  return {
    schemaProposals: async (stream) => {
      const [proposals, contract] = await Promise.all([listProposals(store, stream), loadContract(store, stream)]);
      return proposals.length === 0 && !contract ? undefined : proposals.reverse();
    },
    decideSchemaProposal: (request) => {
      const { stream, id, operator } = request;
      return request.action === 'adopt'
        ? adoptProposal(store, stream, id, { by: operator })
        : rejectProposal(store, stream, id, { by: operator, reason: request.reason });
    },
  };
}

/** The overview's streams, each with the number of its open schema proposals (the streams read in parallel). */
export async function withOpenProposals<S extends Pick<StreamOverview, 'stream'>>(
  store: ObjectStore,
  streams: S[],
): Promise<Array<S & { open_proposals: number }>> {
  return Promise.all(
    streams.map(async (s) => ({ ...s, open_proposals: (await listProposals(store, s.stream)).filter((p) => !p.decision).length })),
  );
}
