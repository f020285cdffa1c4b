/**
 * The OpenLineage versions vaultmend's run events follow: the core spec every event names in its
 * `schemaURL`, the producer URI every event and facet carries, and each facet's `_schemaURL` (a
 * JSON pointer into the facet's published schema). The tests validate the events against exactly
 * these schema files (tests/support/openlineage/, with their upstream source); vaultmend's own
 * facet (`vaultmend_schemaChange`) names the schema lib/lineage/schema-change-facet.ts declares.
 *
 * @example
 * const event = { eventTime, producer: OPENLINEAGE.producer, schemaURL: OPENLINEAGE.schemaURL, ... };
 */
export const OPENLINEAGE = {
  producer: 'urn:vaultmend:lineage:1',
  schemaURL: 'https://openlineage.io/spec/2-0-7/OpenLineage.json#/$defs/RunEvent',
  /** The job namespace: every function's job is named `vaultmend.<step>` in it. */
  namespace: 'vaultmend',
  facets: {
    schema: 'https://openlineage.io/spec/facets/1-0-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
    version: 'https://openlineage.io/spec/facets/1-0-0/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet',
    outputStatistics:
      'https://openlineage.io/spec/facets/1-0-0/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
    dataQualityMetrics:
      'https://openlineage.io/spec/facets/1-0-3/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet',
    errorMessage: 'https://openlineage.io/spec/facets/1-0-0/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  },
} as const;
