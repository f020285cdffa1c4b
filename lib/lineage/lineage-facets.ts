import { OPENLINEAGE } from './openlineage-spec.ts';
import { SCHEMA_CHANGE_FACET, type SchemaChangeFacts } from './schema-change-facet.ts';

const base = (schemaURL: string) => ({ _producer: OPENLINEAGE.producer, _schemaURL: schemaURL });

/** A column of a dataset as the `schema` facet lists it: its name and type. */
export interface LineageField {
  name: string;
  type: string;
}

/**
 * The OpenLineage facets vaultmend fills, by their names in the spec: `schema` (a dataset's fields),
 * `version` (the contract version a batch's dataset was checked against), `outputStatistics` (rows
 * written to an output), `dataQualityMetrics` (rows of an input that the step evaluated; no column
 * metrics) and `errorMessage` (why a run failed); and vaultmend's own `vaultmend_schemaChange`
 * (the columns that contract version changed, schema-change-facet.ts).
 *
 * @example
 * const output = { namespace, name: key, outputFacets: { outputStatistics: lineageFacets.outputStatistics(42) } };
 */
export const lineageFacets = {
  schema: (fields: readonly LineageField[]) => ({ ...base(OPENLINEAGE.facets.schema), fields: fields.map((f) => ({ ...f })) }),
  version: (datasetVersion: string) => ({ ...base(OPENLINEAGE.facets.version), datasetVersion }),
  schemaChange: (change: SchemaChangeFacts) => ({
    ...base(SCHEMA_CHANGE_FACET.schemaURL),
    base: change.base,
    version: change.version,
    changes: change.changes.map(({ column, kind, detail }) => ({ column, kind, detail })),
  }),
  outputStatistics: (rowCount: number) => ({ ...base(OPENLINEAGE.facets.outputStatistics), rowCount }),
  dataQualityMetrics: (rowCount: number) => ({ ...base(OPENLINEAGE.facets.dataQualityMetrics), rowCount, columnMetrics: {} }),
  errorMessage: (message: string) => ({ ...base(OPENLINEAGE.facets.errorMessage), message, programmingLanguage: 'TypeScript' }),
};
