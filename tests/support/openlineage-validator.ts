import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { SCHEMA_CHANGE_FACET } from '../../lib/lineage/schema-change-facet.ts';

/**
 * Validates run events against the official OpenLineage JSON schemas vendored in
 * tests/support/openlineage/ (see its README for their source and versions), offline: the core
 * schema for the event, and each facet against the schema its `_schemaURL` points to (a facet
 * with a `_schemaURL` none of the vendored schemas has is an error). ajv 8 in draft 2020-12 mode,
 * with ajv-formats for `date-time`, `uri` and `uuid`.
 */
const DIR = join(import.meta.dirname, 'openlineage');
const read = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const core = read(join(DIR, 'OpenLineage.json'));
const facetSchemas = readdirSync(join(DIR, 'facets')).map((name) => read(join(DIR, 'facets', name)));

/** Core versions the vendored facet schemas `$ref` for their base facet (the same definitions in every core since 1-0-0). */
const BASE_FACET_CORES = ['https://openlineage.io/spec/1-0-2/OpenLineage.json', 'https://openlineage.io/spec/2-0-2/OpenLineage.json'];

// ajv-formats is CommonJS: imported from ESM, its default import is the plugin itself (module.exports).
const addFormats = addFormatsModule as unknown as FormatsPlugin;
// Not ajv's strict mode: that is a lint of schema style (the spec's `not: { required: [...] }` of
// properties defined elsewhere, its `example` annotations), not a check of events.
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema(core);
for (const id of BASE_FACET_CORES) ajv.addSchema({ ...core, $id: id });
for (const schema of facetSchemas) ajv.addSchema(schema);
// vaultmend's own facet, by the schema its _schemaURL names (lib/lineage/schema-change-facet.ts).
ajv.addSchema(SCHEMA_CHANGE_FACET.schema);
const validateCore = ajv.getSchema(String(core['$id']))!;

const describe = (where: string, errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${where}${e.instancePath || '/'} ${e.message ?? 'invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);

/** Every facet of an event, with where it sits. */
function facetsOf(event: Record<string, unknown>): Array<[string, Record<string, unknown>]> {
  const found: Array<[string, Record<string, unknown>]> = [];
  const collect = (where: string, facets: unknown) => {
    if (facets && typeof facets === 'object')
      for (const [name, facet] of Object.entries(facets)) found.push([`${where}/${name}`, facet as Record<string, unknown>]);
  };
  const run = event['run'] as Record<string, unknown> | undefined;
  const job = event['job'] as Record<string, unknown> | undefined;
  collect('/run/facets', run?.['facets']);
  collect('/job/facets', job?.['facets']);
  for (const side of ['inputs', 'outputs'] as const) {
    const datasets = (event[side] as Array<Record<string, unknown>> | undefined) ?? [];
    datasets.forEach((d, i) => {
      collect(`/${side}/${i}/facets`, d['facets']);
      collect(`/${side}/${i}/${side === 'inputs' ? 'inputFacets' : 'outputFacets'}`, d[side === 'inputs' ? 'inputFacets' : 'outputFacets']);
    });
  }
  return found;
}

/**
 * The problems of an event against the OpenLineage schemas: empty when it is valid.
 *
 * @example
 * expect(openLineageErrors(event)).toEqual([]);
 */
export function openLineageErrors(event: unknown): string[] {
  const errors = validateCore(event) ? [] : describe('', validateCore.errors);
  if (!event || typeof event !== 'object') return errors;
  for (const [where, facet] of facetsOf(event as Record<string, unknown>)) {
    const url = facet['_schemaURL'];
    const validate = typeof url === 'string' ? ajv.getSchema(url) : undefined;
    if (!validate) errors.push(`${where} _schemaURL ${JSON.stringify(url)} names no vendored OpenLineage facet schema`);
    else if (!validate(facet)) errors.push(...describe(where, validate.errors));
  }
  return errors;
}
