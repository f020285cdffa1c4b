import type { Contract } from '../contract/contract.ts';
import type { LineageField } from './lineage-facets.ts';

const columns = (contract: Contract): LineageField[] => contract.columns.map((c) => ({ name: c.name, type: c.type }));
const asText = (contract: Contract): LineageField[] => contract.columns.map((c) => ({ name: c.name, type: 'string' }));
const ROW_ID: LineageField = { name: 'row_id', type: 'integer' };
const PK_HASH: LineageField = { name: 'pk_hash', type: 'string' };
const text = (...names: string[]): LineageField[] => names.map((name) => ({ name, type: 'string' }));

/**
 * The fields of each kind of vault data object, for its `schema` facet, in the contract's own
 * types (`integer`, `decimal`, `date`, ... ; `string` for values kept as the text that arrived):
 * the raw file, the clean and curated rows (typed), the suspect and quarantined rows (as text,
 * with their identity and reason codes), a cluster's cells, the staged fixes and the quarantined cells.
 *
 * @example
 * vaultFields.clean(contract); // [{ name: 'row_id', type: 'integer' }, { name: 'id', type: 'integer' }, ...]
 */
export const vaultFields = {
  raw: (contract: Contract): LineageField[] => columns(contract),
  clean: (contract: Contract): LineageField[] => [ROW_ID, ...columns(contract)],
  curated: (contract: Contract): LineageField[] => [ROW_ID, ...columns(contract)],
  suspect: (contract: Contract): LineageField[] => [ROW_ID, PK_HASH, { name: 'reasons', type: 'string[]' }, ...asText(contract)],
  quarantineRows: (contract: Contract): LineageField[] => [
    ROW_ID,
    PK_HASH,
    { name: 'disposition', type: 'string' },
    { name: 'reasons', type: 'string[]' },
    { name: 'duplicate_of', type: 'integer' },
    ...asText(contract),
  ],
  cells: (): LineageField[] => [ROW_ID, PK_HASH, ...text('column_name', 'rule', 'value', 'shape')],
  staged: (): LineageField[] => [ROW_ID, PK_HASH, ...text('column_name', 'old_value', 'new_value')],
  quarantineCells: (): LineageField[] => [ROW_ID, PK_HASH, ...text('column_name', 'value', 'reason', 'cluster')],
};
