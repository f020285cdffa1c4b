import { createHash } from 'node:crypto';
import { z } from 'zod';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { findObject, objectKind, putObjectIfAbsent } from '../vault/vault-object.ts';
import { CHANGE_KINDS, EVOLUTION_POLICIES } from './compatibility.ts';
import { COLUMN_TYPES, type Contract } from './contract.ts';
import type { SchemaEvolution } from './evolve-schema.ts';
import { parseContract, type RegisteredContract } from './registry.ts';
import { expectedSchema, schemaFingerprint } from './schema-fingerprint.ts';

/**
 * Schema proposals: the next contract a file's columns propose (evolve-schema.ts), kept in the
 * vault at `contracts/<stream>/proposals/<id>.json` for an operator to adopt or reject, and the
 * decision at `contracts/<stream>/decisions/<id>.json`. Both are written once (first writer wins):
 * the id is derived from the registered contract and the proposed one, so every file of the same
 * new schema over the same registered version names the same proposal, and a duplicate delivery
 * writes nothing new.
 *
 * @example
 * const proposal = await proposeVersion(store, { registered, evolution, batch, key, at });
 * const decided = await proposalDecision(store, stream, proposal.id); // undefined until an operator decides
 */
/** A schema proposal's id: 16 hex digits (proposalId). */
export const PROPOSAL_ID = /^[0-9a-f]{16}$/;

export const VerdictSchema = z.object({
  policy: z.enum(EVOLUTION_POLICIES),
  accepted: z.boolean(),
  changes: z.array(
    z.object({
      kind: z.enum(CHANGE_KINDS),
      column: z.string(),
      detail: z.string(),
    }),
  ),
  rule: z.string(),
  renamed: z.object({ from: z.string(), to: z.string() }).optional(),
});

export const SchemaProposalSchema = z.object({
  stream: z.string(),
  id: z.string().regex(PROPOSAL_ID),
  /** The registered contract it was proposed over. */
  base: z.object({ registry_version: z.number().int().positive().nullable(), fingerprint: z.string(), contract_version: z.number().int() }),
  /** The proposed next contract (read back through parseContract). */
  contract: z.unknown(),
  /** Its schema fingerprint: the schema the proposing file carried. */
  fingerprint: z.string(),
  verdict: VerdictSchema,
  /** The types the first file's values suggest for new columns that are not plain text (infer-column-types.ts): a hint, not part of the proposal. */
  suggested_types: z.record(z.string(), z.enum(COLUMN_TYPES)).optional(),
  /** The first file that proposed it. */
  batch: z.string(),
  key: z.string(),
  proposed_at: z.string(),
});
export type SchemaProposal = Omit<z.infer<typeof SchemaProposalSchema>, 'contract'> & { contract: Contract };

export const ProposalDecisionSchema = z.object({
  stream: z.string(),
  id: z.string(),
  decision: z.enum(['adopted', 'rejected']),
  by: z.string().min(1),
  reason: z.string().optional(),
  at: z.string(),
});
export type ProposalDecision = z.infer<typeof ProposalDecisionSchema>;

/** A file schema an operator rejected (by the schema fingerprint, whatever version it was proposed over): the proposal and the decision's words. */
export const SchemaRejectionSchema = z.object({
  stream: z.string(),
  fingerprint: z.string(),
  proposal: z.string(),
  by: z.string(),
  reason: z.string().optional(),
  at: z.string(),
});
export type SchemaRejection = z.infer<typeof SchemaRejectionSchema>;

const rejectionObject = objectKind('rejected schema', keys.rejectedSchema, SchemaRejectionSchema, { once: true });

/** Records that files of this schema are refused (once; the first rejection stands). */
export async function recordRejection(store: ObjectStore, rejection: SchemaRejection): Promise<SchemaRejection> {
  return (await putObjectIfAbsent(store, rejectionObject.at(rejection.stream, rejection.fingerprint), rejection)).value;
}

/** The rejection of a file schema (by fingerprint), or undefined when no operator rejected it. */
export async function schemaRejection(store: ObjectStore, stream: string, fingerprint: string): Promise<SchemaRejection | undefined> {
  return findObject(store, rejectionObject.at(stream, fingerprint));
}

const proposalObject = objectKind('schema proposal', keys.schemaProposal, SchemaProposalSchema, { once: true });
const decisionObject = objectKind('schema proposal decision', keys.proposalDecision, ProposalDecisionSchema, { once: true });

/** The proposal's id: 16 hex digits of SHA-256 over the registered fingerprint and version and the proposed contract. */
export function proposalId(registered: Pick<RegisteredContract, 'fingerprint' | 'registry_version'>, proposed: Contract): string {
  const text = JSON.stringify([registered.fingerprint, registered.registry_version ?? null, proposed]);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

const withContract = (stored: z.infer<typeof SchemaProposalSchema>): SchemaProposal => ({
  ...stored,
  contract: parseContract(stored.contract, keys.schemaProposal(stored.stream, stored.id)),
});

/** Writes the proposal a file's schema makes (once; a later file of the same schema finds it) and returns the one that stands. */
export async function proposeVersion(
  store: ObjectStore,
  input: {
    registered: RegisteredContract;
    evolution: SchemaEvolution & { proposed: Contract };
    suggested?: Record<string, Contract['columns'][number]['type']>;
    batch: string;
    key: string;
    at: Date;
  },
): Promise<SchemaProposal> {
  const { registered, evolution } = input;
  const stream = registered.contract.stream;
  const id = proposalId(registered, evolution.proposed);
  const written = await putObjectIfAbsent(store, proposalObject.at(stream, id), {
    stream,
    id,
    base: {
      registry_version: registered.registry_version ?? null,
      fingerprint: registered.fingerprint,
      contract_version: registered.contract.version,
    },
    contract: evolution.proposed,
    fingerprint: schemaFingerprint(expectedSchema(evolution.proposed)),
    verdict: evolution.verdict,
    ...(input.suggested && Object.keys(input.suggested).length ? { suggested_types: input.suggested } : {}),
    batch: input.batch,
    key: input.key,
    proposed_at: input.at.toISOString(),
  });
  return withContract(written.value);
}

/** One proposal of a stream, or undefined. */
export async function loadProposal(store: ObjectStore, stream: string, id: string): Promise<SchemaProposal | undefined> {
  const stored = await findObject(store, proposalObject.at(stream, id));
  return stored && withContract(stored);
}

/** The operator's decision on a proposal, or undefined while it is open. */
export async function proposalDecision(store: ObjectStore, stream: string, id: string): Promise<ProposalDecision | undefined> {
  return findObject(store, decisionObject.at(stream, id));
}

/** Records an operator's decision once; the first decision stands (a second, even a different one, returns it). */
export async function decideProposal(store: ObjectStore, decision: ProposalDecision): Promise<ProposalDecision> {
  const written = await putObjectIfAbsent(store, decisionObject.at(decision.stream, decision.id), decision);
  return written.value;
}

/** Every proposal of a stream with its decision (absent: open), oldest first. */
export async function listProposals(store: ObjectStore, stream: string): Promise<Array<SchemaProposal & { decision?: ProposalDecision }>> {
  const prefix = keys.schemaProposals(stream);
  const listed = (await store.list(prefix)).map((k) => k.slice(prefix.length).replace(/\.json$/, ''));
  const ids = [...new Set(listed.filter((id) => PROPOSAL_ID.test(id)))];
  const found = await Promise.all(
    ids.map(async (id) => {
      const [proposal, decision] = await Promise.all([loadProposal(store, stream, id), proposalDecision(store, stream, id)]);
      return proposal && { ...proposal, ...(decision ? { decision } : {}) };
    }),
  );
  return found.filter((p) => p !== undefined).sort((a, b) => a.proposed_at.localeCompare(b.proposed_at));
}
