import { CHANGE_KINDS, type SchemaChange } from '../contract/compatibility.ts';

/**
 * What the `vaultmend_schemaChange` dataset facet says: the contract version a batch was checked
 * against (`version`, the same label as the dataset's `version` facet: `contract-v<n>` or
 * `proposal-<id>`), the registry version it changed from (`base`; null for a proposal made over
 * a contract registered before versions were kept), and each column it changed.
 */
export interface SchemaChangeFacts {
  base: number | null;
  version: string;
  changes: SchemaChange[];
}

const ID = 'urn:vaultmend:lineage:facets:SchemaChangeDatasetFacet:1-0-0';

/**
 * vaultmend's custom dataset facet: its name in a dataset's `facets` (OpenLineage custom facets
 * are prefixed by their producer), its `_schemaURL`, and the JSON schema (draft 2020-12) that URL
 * names, which extends the core spec's `DatasetFacet` (`_producer`, `_schemaURL`) as the official
 * facets do. vaultmend publishes no schema host, so the id is a URN like the producer's; the tests
 * validate the facet against this schema.
 *
 * @example
 * const facets = { [SCHEMA_CHANGE_FACET.name]: lineageFacets.schemaChange(change) };
 */
export const SCHEMA_CHANGE_FACET = {
  name: 'vaultmend_schemaChange',
  schemaURL: `${ID}#/$defs/SchemaChangeDatasetFacet`,
  schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: ID,
    $defs: {
      SchemaChangeDatasetFacet: {
        allOf: [
          { $ref: 'https://openlineage.io/spec/2-0-7/OpenLineage.json#/$defs/DatasetFacet' },
          {
            type: 'object',
            properties: {
              base: {
                description: 'The registry version of the contract this version changed, or null (none was kept).',
                type: ['integer', 'null'],
                minimum: 1,
              },
              version: {
                description: 'The contract version the batch was checked against: contract-v<n> or proposal-<id>.',
                type: 'string',
              },
              changes: {
                description: 'Each column this version changed, relative to the base.',
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  properties: {
                    column: { type: 'string' },
                    kind: { enum: [...CHANGE_KINDS] },
                    detail: { type: 'string' },
                  },
                  required: ['column', 'kind', 'detail'],
                  additionalProperties: false,
                },
              },
            },
            required: ['base', 'version', 'changes'],
            additionalProperties: true,
          },
        ],
        type: 'object',
      },
    },
    type: 'object',
    properties: { vaultmend_schemaChange: { $ref: '#/$defs/SchemaChangeDatasetFacet' } },
  },
} as const;
