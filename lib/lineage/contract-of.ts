import type { Contract } from '../contract/contract.ts';
import { loadContract } from '../contract/registry.ts';
import type { ObjectStore } from '../store/object-store.ts';

/**
 * The contract a batch was processed under, for its datasets' `schema` facets: the registered
 * contract of the stream when it is still the batch's version, else undefined (the facet is then
 * left out rather than describing another version's columns).
 *
 * @example
 * const contract = await contractOf(vault, manifest.stream, manifest.contract.version);
 */
export async function contractOf(store: ObjectStore, stream: string, version: number): Promise<Contract | undefined> {
  const registered = await loadContract(store, stream);
  return registered?.contract.version === version ? registered.contract : undefined;
}
