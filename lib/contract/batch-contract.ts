import { ContractMissingError, VaultmendError } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { Contract } from './contract.ts';
import { contractHistory, loadContractVersion } from './contract-versions.ts';
import { loadContract, parseContract, type RegisteredContract } from './registry.ts';
import { loadProposal } from './schema-proposals.ts';

/**
 * The contract a batch is checked and processed under: a registered one, or the proposal a file's
 * schema made and the stream's policy accepted (`proposal`, its id; registry_version is then the
 * version it was proposed over).
 */
export type CheckedContract = RegisteredContract & { proposal?: string };

/** How an ingest manifest names the contract its batch was checked against. */
export interface ContractRef {
  version: number;
  fingerprint: string;
  registry_version?: number;
  proposal?: string;
}

/** The manifest's `contract` block for a batch checked against `checked`. */
export function contractRef(checked: CheckedContract): ContractRef {
  return {
    version: checked.contract.version,
    fingerprint: checked.fingerprint,
    ...(checked.registry_version ? { registry_version: checked.registry_version } : {}),
    ...(checked.proposal ? { proposal: checked.proposal } : {}),
  };
}

/**
 * The contract a batch was checked against, by its manifest's `contract` block: the proposal it
 * names, else the registry version, else (batches ingested before versions were kept) the
 * current contract or a recorded version with the batch's declared version and fingerprint (the
 * current contract when none has). Every later step of the batch (cluster, remediate, reconcile, a
 * revision, a rollback) reads its columns and rules from here, so registering a new version never
 * changes how an earlier batch is processed.
 *
 * @example
 * const contract = await contractOfBatch(store, ingest.stream, ingest.contract);
 */
export async function contractOfBatch(store: ObjectStore, stream: string, ref: ContractRef): Promise<Contract> {
  if (ref.proposal) {
    const proposal = await loadProposal(store, stream, ref.proposal);
    if (!proposal)
      throw new VaultmendError('contract-missing', `stream ${stream} has no schema proposal ${ref.proposal}, which a batch names`);
    return proposal.contract;
  }
  if (ref.registry_version) {
    const version = await loadContractVersion(store, stream, ref.registry_version);
    if (!version)
      throw new VaultmendError('contract-missing', `stream ${stream} has no contract version ${ref.registry_version}, which a batch names`);
    return parseContract(version.contract, `contract version ${ref.registry_version} of ${stream}`);
  }
  // A batch from before versions were kept: the current contract while it is still the batch's,
  // else the latest recorded version with the batch's declared version and fingerprint.
  const registered = await loadContract(store, stream);
  if (!registered) throw new ContractMissingError(stream);
  if (registered.contract.version === ref.version && registered.fingerprint === ref.fingerprint) return registered.contract;
  const match = (await contractHistory(store, stream))
    .reverse()
    .find((v) => v.fingerprint === ref.fingerprint && (v.contract as { version?: unknown }).version === ref.version);
  return match ? parseContract(match.contract, `contract version ${match.version} of ${stream}`) : registered.contract;
}
