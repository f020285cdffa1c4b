import { z } from 'zod';

/** Every facet: the OpenLineage base facet's two fields, and the facet's own (checked by the spec's schemas in the tests). */
const Facet = z.object({ _producer: z.string().min(1), _schemaURL: z.url() }).loose();
const Facets = z.record(z.string(), Facet);

/** A dataset: a vault object, named by the bucket (`s3://<bucket>`) and its key. */
const Dataset = z.object({ namespace: z.string().min(1), name: z.string().min(1), facets: Facets.optional() });

/**
 * `lineage/<batch>/<job>[.<qualifier>].<eventType>.json`: an OpenLineage RunEvent of a step on a
 * batch, as written to the vault and posted to OPENLINEAGE_URL. The shape vaultmend emits (a
 * subset of the spec's RunEvent: START, COMPLETE or FAIL), checked with zod on every write and
 * read; the tests also validate it against the spec's own JSON schemas.
 *
 * @example
 * const event = RunEventSchema.parse(JSON.parse(text));
 * if (event.eventType === 'FAIL') console.log(event.run.facets?.['errorMessage']);
 */
export const RunEventSchema = z.object({
  eventType: z.enum(['START', 'COMPLETE', 'FAIL']),
  eventTime: z.iso.datetime(),
  producer: z.string().min(1),
  schemaURL: z.url(),
  run: z.object({ runId: z.uuid(), facets: Facets.optional() }),
  job: z.object({ namespace: z.string().min(1), name: z.string().min(1), facets: Facets.optional() }),
  inputs: z.array(Dataset.extend({ inputFacets: Facets.optional() })),
  outputs: z.array(Dataset.extend({ outputFacets: Facets.optional() })),
});
export type RunEvent = z.infer<typeof RunEventSchema>;
export type RunEventType = RunEvent['eventType'];
export type InputDataset = RunEvent['inputs'][number];
export type OutputDataset = RunEvent['outputs'][number];
