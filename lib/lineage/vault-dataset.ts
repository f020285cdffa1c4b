import { lineageFacets, type LineageField } from './lineage-facets.ts';
import type { InputDataset, OutputDataset } from './run-event.ts';
import { SCHEMA_CHANGE_FACET, type SchemaChangeFacts } from './schema-change-facet.ts';

/**
 * What is known of a vault object a step read or wrote: its fields, how many rows it holds, and
 * for an object shaped by the batch's contract, that contract's version label and the columns
 * the version changed.
 */
export interface DatasetFacts {
  fields?: readonly LineageField[];
  rows?: number;
  /** The `version` facet's `datasetVersion` (contract-of.ts: `contract-v<n>`, `proposal-<id>`, `declared-v<n>`). */
  version?: string;
  /** The `vaultmend_schemaChange` facet's content. */
  schemaChange?: SchemaChangeFacts;
}

/**
 * A vault object as an OpenLineage dataset: namespace `s3://<bucket>`, name the object's key, with
 * its `schema` facet when its fields are known, its `version` and `vaultmend_schemaChange` facets
 * when those are, and its row count (`dataQualityMetrics.rowCount` of
 * an input, `outputStatistics.rowCount` of an output) when that is known.
 *
 * @example
 * vaultDataset('output', 'vaultmend-vault', 'clean/orders/orders-0123456789abcdef0123/part-0.parquet', { rows: 3 });
 */
export function vaultDataset(role: 'input', bucket: string, key: string, facts?: DatasetFacts): InputDataset;
export function vaultDataset(role: 'output', bucket: string, key: string, facts?: DatasetFacts): OutputDataset;
export function vaultDataset(
  role: 'input' | 'output',
  bucket: string,
  key: string,
  facts: DatasetFacts = {},
): InputDataset | OutputDataset {
  const facets = {
    ...(facts.fields ? { schema: lineageFacets.schema(facts.fields) } : {}),
    ...(facts.version !== undefined ? { version: lineageFacets.version(facts.version) } : {}),
    ...(facts.schemaChange ? { [SCHEMA_CHANGE_FACET.name]: lineageFacets.schemaChange(facts.schemaChange) } : {}),
  };
  const dataset = { namespace: `s3://${bucket}`, name: key, ...(Object.keys(facets).length ? { facets } : {}) };
  if (facts.rows === undefined) return dataset;
  return role === 'input'
    ? { ...dataset, inputFacets: { dataQualityMetrics: lineageFacets.dataQualityMetrics(facts.rows) } }
    : { ...dataset, outputFacets: { outputStatistics: lineageFacets.outputStatistics(facts.rows) } };
}
