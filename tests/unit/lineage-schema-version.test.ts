import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import type { ContractRef } from '../../lib/contract/batch-contract.ts';
import { evolveSchema } from '../../lib/contract/evolve-schema.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { proposeVersion, type SchemaProposal } from '../../lib/contract/schema-proposals.ts';
import { ingestObject } from '../../lib/ingest/ingest-object.ts';
import { buildRunEvent } from '../../lib/lineage/build-run-event.ts';
import { clusterRunEnds } from '../../lib/lineage/cluster-lineage.ts';
import { ingestRunEnds } from '../../lib/lineage/ingest-lineage.ts';
import type { RunEvent } from '../../lib/lineage/run-event.ts';
import { SCHEMA_CHANGE_FACET } from '../../lib/lineage/schema-change-facet.ts';
import type { RunEnd } from '../../lib/lineage/step-lineage.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import type { IngestManifest } from '../../lib/vault/ingest-manifest.ts';
import { DESK_CSV, deskContract, ENGINE } from '../support/local-batch.ts';
import { openLineageErrors } from '../support/openlineage-validator.ts';

/**
 * The schema a batch's datasets carry in their OpenLineage events is the contract version (or
 * schema proposal) the batch was checked against, not the stream's current contract; a version
 * that changed columns says which, relative to the one before it. On a local vault: a batch
 * ingested under registry version 1, then version 2 (a nullable column added) and a proposal over
 * version 2 (another one added); the ingest manifest's `contract` block names each in turn.
 */
const STREAM = 'lineage-versions';
const BUCKET = 'vaultmend-lineage-versions';
const V1 = { ...deskContract(STREAM), evolution: 'additive' };
const V2 = { ...V1, version: 2, columns: [...V1.columns, { name: 'note', type: 'string', nullable: true }] };
const columnsOf = (contract: { columns: ReadonlyArray<{ name: string; type: string }> }) =>
  contract.columns.map(({ name, type }) => ({ name, type }));

let dir: string;
let store: FileObjectStore;
let manifest: IngestManifest;
let proposal: SchemaProposal;

/** The COMPLETE event of the ingest run of `manifest` with its `contract` block replaced by `ref`. */
async function ingestEvent(ref: ContractRef): Promise<RunEvent> {
  const ends = await ingestRunEnds(store, BUCKET, { status: 'ingested', batch: manifest.batch, manifest: { ...manifest, contract: ref } });
  return eventOf(ends);
}
/** The one COMPLETE a step's run ends with, as the event it is written as, checked against the OpenLineage schemas. */
function eventOf(ends: RunEnd[]): RunEvent {
  expect(ends.map((e) => e.eventType)).toEqual(['COMPLETE']);
  const { eventType, run, lineage } = ends[0]!;
  const event = buildRunEvent({ eventType, eventTime: new Date(), run: run!, inputs: lineage!.inputs, outputs: lineage!.outputs });
  expect(openLineageErrors(event)).toEqual([]);
  return event;
}
/** The raw input and the clean output of an ingest event. */
const rawAndClean = (event: RunEvent) => [event.inputs[0]!, event.outputs.find((o) => o.name === manifest.outputs.clean[0])!];

beforeAll(async () => {
  dir = join(tmpdir(), `vaultmend-lineage-versions-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, 'vault', 'raw', STREAM), { recursive: true });
  store = new FileObjectStore(join(dir, 'vault'));
  expect((await registerContract(store, V1)).registry_version).toBe(1);
  writeFileSync(join(dir, 'vault', 'raw', STREAM, 'desk.csv'), DESK_CSV);
  const ingested = await ingestObject(
    { store, alerts: new LogAlertSink(() => {}), workDir: join(dir, 'work'), engine: ENGINE },
    { bucket: BUCKET, key: `raw/${STREAM}/desk.csv` },
  );
  if (ingested.status !== 'ingested') throw new Error(`not ingested: ${ingested.status}`);
  manifest = ingested.manifest;
  expect(manifest.contract.registry_version).toBe(1);
  const registered = await registerContract(store, V2);
  expect(registered.registry_version).toBe(2);
  const evolution = evolveSchema(registered.contract, [
    ...columnsOf(registered.contract).map(({ name }) => ({ name, type: 'text' })),
    { name: 'channel', type: 'text' },
  ]);
  if (!evolution.proposed || !evolution.verdict.accepted) throw new Error(`no proposal: ${evolution.verdict.rule}`);
  proposal = await proposeVersion(store, {
    registered,
    evolution: { ...evolution, proposed: evolution.proposed },
    batch: manifest.batch,
    key: manifest.source.key,
    at: new Date(),
  });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the contract version in the lineage of a batch', () => {
  it('registry version 1: its columns, `contract-v1`, and no change (nothing came before it)', async () => {
    const event = await ingestEvent({ ...manifest.contract, registry_version: 1 });
    const [raw, clean] = rawAndClean(event);
    expect(raw!.facets?.['schema']?.['fields']).toEqual(columnsOf(V1));
    expect(clean!.facets?.['schema']?.['fields']).toEqual([{ name: 'row_id', type: 'integer' }, ...columnsOf(V1)]);
    for (const dataset of [raw!, clean!]) {
      expect(dataset.facets?.['version']).toMatchObject({
        datasetVersion: 'contract-v1',
        _schemaURL: expect.stringContaining('DatasetVersion'),
      });
      expect(dataset.facets?.[SCHEMA_CHANGE_FACET.name]).toBeUndefined();
    }
  });

  it('registry version 2: its columns and the column it added over version 1', async () => {
    const event = await ingestEvent({ version: 2, fingerprint: 'v2', registry_version: 2 });
    const [raw, clean] = rawAndClean(event);
    expect(raw!.facets?.['schema']?.['fields']).toEqual(columnsOf(V2));
    expect(clean!.facets?.['schema']?.['fields']).toEqual([{ name: 'row_id', type: 'integer' }, ...columnsOf(V2)]);
    for (const dataset of [raw!, clean!]) {
      expect(dataset.facets?.['version']?.['datasetVersion']).toBe('contract-v2');
      expect(dataset.facets?.[SCHEMA_CHANGE_FACET.name]).toEqual({
        _producer: 'urn:vaultmend:lineage:1',
        _schemaURL: SCHEMA_CHANGE_FACET.schemaURL,
        base: 1,
        version: 'contract-v2',
        changes: [{ column: 'note', kind: 'added', detail: expect.any(String) }],
      });
    }
    // The facet is checked against the schema its _schemaURL names: one without its changes is refused.
    const broken = structuredClone(event);
    delete broken.inputs[0]!.facets![SCHEMA_CHANGE_FACET.name]!['changes'];
    expect(openLineageErrors(broken).join('\n')).toMatch(/vaultmend_schemaChange.*changes/);
  });

  it("a schema proposal: the proposal's columns and the changes its verdict found over its base version", async () => {
    const event = await ingestEvent({
      version: proposal.contract.version,
      fingerprint: proposal.fingerprint,
      registry_version: 2,
      proposal: proposal.id,
    });
    const [raw] = rawAndClean(event);
    expect(raw!.facets?.['schema']?.['fields']).toEqual([...columnsOf(V2), { name: 'channel', type: 'string' }]);
    expect(raw!.facets?.['version']?.['datasetVersion']).toBe(`proposal-${proposal.id}`);
    expect(raw!.facets?.[SCHEMA_CHANGE_FACET.name]).toMatchObject({
      base: 2,
      version: `proposal-${proposal.id}`,
      changes: proposal.verdict.changes.map(({ column, kind, detail }) => ({ column, kind, detail })),
    });
    expect(proposal.verdict.changes.map((c) => `${c.kind} ${c.column}`)).toEqual(['added channel']);
  });

  it('a later step of an older batch (cluster, reading the stored manifest) still describes version 1, not the current one', async () => {
    const event = eventOf(await clusterRunEnds(store, BUCKET, { status: 'nothing-to-cluster', batch: manifest.batch }));
    expect(event.inputs.map((i) => i.name)).toEqual(manifest.outputs.suspect);
    const suspect = event.inputs[0]!;
    expect(suspect.facets?.['version']?.['datasetVersion']).toBe('contract-v1');
    expect((suspect.facets?.['schema']?.['fields'] as Array<{ name: string }>).map((f) => f.name)).toEqual([
      'row_id',
      'pk_hash',
      'reasons',
      ...V1.columns.map((c) => c.name),
    ]);
  });

  it('a version or proposal that cannot be found: its label, no schema and no change', async () => {
    for (const [ref, label] of [
      [{ version: 9, fingerprint: 'x', registry_version: 9 }, 'contract-v9'],
      [{ version: 3, fingerprint: 'x', registry_version: 2, proposal: '0123456789abcdef' }, 'proposal-0123456789abcdef'],
    ] as const) {
      const [raw, clean] = rawAndClean(await ingestEvent(ref));
      for (const dataset of [raw!, clean!]) {
        expect(Object.keys(dataset.facets ?? {}), label).toEqual(['version']);
        expect(dataset.facets?.['version']?.['datasetVersion']).toBe(label);
      }
    }
  });

  it('a batch ingested before versions were kept: the current contract while it declares the batch’s version, else no schema', async () => {
    const [same] = rawAndClean(await ingestEvent({ version: 2, fingerprint: 'x' }));
    expect(same!.facets?.['schema']?.['fields']).toEqual(columnsOf(V2));
    expect(same!.facets?.['version']?.['datasetVersion']).toBe('declared-v2');
    expect(same!.facets?.[SCHEMA_CHANGE_FACET.name]).toBeUndefined();
    const [older] = rawAndClean(await ingestEvent({ version: 1, fingerprint: 'x' }));
    expect(Object.keys(older!.facets ?? {})).toEqual(['version']);
    expect(older!.facets?.['version']?.['datasetVersion']).toBe('declared-v1');
  });

  it('reads the current contract, a version and a proposal at most twice per event, whatever the number of datasets', async () => {
    const reads: string[] = [];
    const counting = new Proxy(store, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (typeof args[0] === 'string' && args[0].startsWith('contracts/')) reads.push(args[0]);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const ref = { version: 2, fingerprint: 'v2', registry_version: 2 };
    const ends = await ingestRunEnds(counting, BUCKET, {
      status: 'ingested',
      batch: manifest.batch,
      manifest: { ...manifest, contract: ref },
    });
    expect(ends[0]!.lineage!.outputs.length).toBeGreaterThan(1);
    expect(reads).toHaveLength(2);
  });
});
