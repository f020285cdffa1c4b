import { type ContractRef, contractOfBatch } from '../contract/batch-contract.ts';
import { compatibility, type SchemaChange } from '../contract/compatibility.ts';
import type { Contract } from '../contract/contract.ts';
import { loadContractVersion } from '../contract/contract-versions.ts';
import { parseContract } from '../contract/registry.ts';
import { loadProposal } from '../contract/schema-proposals.ts';
import { VaultmendError } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { LineageField } from './lineage-facets.ts';
import type { SchemaChangeFacts } from './schema-change-facet.ts';
import type { DatasetFacts } from './vault-dataset.ts';

/**
 * The contract a batch was checked against, as its datasets' facets describe it: the version's
 * label (the `version` facet), its contract when it can be found (the `schema` facet), and the
 * columns it changed relative to the version before it (the `vaultmend_schemaChange` facet).
 */
export interface LineageContract {
  /** `proposal-<id>`, `contract-v<registry version>`, or (a batch ingested before versions were kept) `declared-v<version>`. */
  datasetVersion: string;
  /** Absent when the version or proposal the batch names cannot be found: the `schema` facet is then left out. */
  contract?: Contract;
  /** Absent for registry version 1, an unversioned batch, or a version that changed no column. */
  change?: SchemaChangeFacts;
}

/** The label of the contract version a manifest's `contract` block names. */
function datasetVersion(ref: ContractRef): string {
  if (ref.proposal) return `proposal-${ref.proposal}`;
  if (ref.registry_version) return `contract-v${ref.registry_version}`;
  return `declared-v${ref.version}`;
}

/**
 * The columns the named version changed: a proposal's own verdict (over the version it was
 * proposed over), or for registry version n > 1 the difference from version n - 1 (under policy
 * `none`: the policy decides only whether a change is accepted, never which changes are listed).
 */
async function changesBefore(
  store: ObjectStore,
  stream: string,
  ref: ContractRef,
): Promise<{ base: number | null; changes: (contract: Contract) => SchemaChange[] } | undefined> {
  if (ref.proposal) {
    const proposal = await loadProposal(store, stream, ref.proposal);
    return proposal && { base: proposal.base.registry_version, changes: () => proposal.verdict.changes };
  }
  if (!ref.registry_version || ref.registry_version <= 1) return undefined;
  const base = ref.registry_version - 1;
  const previous = await loadContractVersion(store, stream, base);
  if (!previous) return undefined;
  const before = parseContract(previous.contract, `contract version ${base} of ${stream}`);
  return { base, changes: (contract) => compatibility(before, contract, 'none').changes };
}

/**
 * The contract a batch was checked against, by its manifest's `contract` block (contractOfBatch:
 * the proposal it names, else its registry version, else the stream's current contract, which
 * counts only while it still declares the batch's version), for its datasets' facets. Reads the
 * contract and the version before it once per event; every dataset of the event shares the answer.
 * A version or proposal that cannot be found leaves the contract (and the change) out.
 *
 * @example
 * const found = await contractOf(vault, manifest.stream, manifest.contract);
 * vaultDataset('input', bucket, manifest.source.key, contractFacts(found, vaultFields.raw));
 */
export async function contractOf(store: ObjectStore, stream: string, ref: ContractRef): Promise<LineageContract> {
  const label = datasetVersion(ref);
  let contract: Contract;
  let before: Awaited<ReturnType<typeof changesBefore>>;
  try {
    [contract, before] = await Promise.all([contractOfBatch(store, stream, ref), changesBefore(store, stream, ref)]);
  } catch (error) {
    if (error instanceof VaultmendError && error.code === 'contract-missing') return { datasetVersion: label };
    throw error;
  }
  if (!ref.proposal && !ref.registry_version && contract.version !== ref.version) return { datasetVersion: label };
  const changes = before?.changes(contract) ?? [];
  return {
    datasetVersion: label,
    contract,
    ...(before && changes.length ? { change: { base: before.base, version: label, changes } } : {}),
  };
}

/**
 * The facts of a dataset shaped by the batch's contract (the raw file, the clean, suspect,
 * quarantined and curated rows): its fields (`fields` picks them from the contract), the version
 * label and the change. Nothing when the batch's contract is unknown (no ingest manifest).
 *
 * @example
 * vaultDataset('output', bucket, key, { ...contractFacts(found, vaultFields.clean), rows: 3 });
 */
export function contractFacts(found: LineageContract | undefined, fields: (contract: Contract) => LineageField[]): DatasetFacts {
  if (!found) return {};
  return {
    version: found.datasetVersion,
    ...(found.contract ? { fields: fields(found.contract) } : {}),
    ...(found.change ? { schemaChange: found.change } : {}),
  };
}
