import { lineageFacets, type LineageField } from './lineage-facets.ts';
import type { InputDataset, OutputDataset } from './run-event.ts';

/** What is known of a vault object a step read or wrote: its fields, and how many rows it holds. */
export interface DatasetFacts {
  fields?: readonly LineageField[];
  rows?: number;
}

/**
 * A vault object as an OpenLineage dataset: namespace `s3://<bucket>`, name the object's key, with
 * its `schema` facet when its fields are known and its row count (`dataQualityMetrics.rowCount` of
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
  const dataset = {
    namespace: `s3://${bucket}`,
    name: key,
    ...(facts.fields ? { facets: { schema: lineageFacets.schema(facts.fields) } } : {}),
  };
  if (facts.rows === undefined) return dataset;
  return role === 'input'
    ? { ...dataset, inputFacets: { dataQualityMetrics: lineageFacets.dataQualityMetrics(facts.rows) } }
    : { ...dataset, outputFacets: { outputStatistics: lineageFacets.outputStatistics(facts.rows) } };
}
