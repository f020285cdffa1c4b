import type { Contract } from '../contract/contract.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { IngestManifest } from '../vault/ingest-manifest.ts';
import { vaultObjects } from '../vault/objects.ts';
import { findObject } from '../vault/vault-object.ts';
import { contractFacts, contractOf, type LineageContract } from './contract-of.ts';
import type { LineageField } from './lineage-facets.ts';
import type { OutputDataset } from './run-event.ts';
import type { RunEnd, StepLineage } from './step-lineage.ts';
import { vaultDataset, type DatasetFacts } from './vault-dataset.ts';
import { vaultFields } from './vault-fields.ts';

/** The parts of an ingest outcome this reads (lib/ingest's IngestOutcome or PartOutcome, structurally). */
export interface IngestOutcomeLike {
  status: string;
  batch?: string;
  manifest?: IngestManifest;
  manifestKey?: string | null;
  reason?: string;
}

/** Keys of one lane: each with the lane's row count when the lane is one object (a fanned-out batch has one per part). */
function lane(bucket: string, keys: readonly string[], rows: number | undefined, facts: DatasetFacts): OutputDataset[] {
  return keys.map((key) => vaultDataset('output', bucket, key, { ...facts, ...(keys.length === 1 && rows !== undefined ? { rows } : {}) }));
}

/** The raw object in, clean/suspect/quarantine objects out, rows per lane. */
function ingestLineage(bucket: string, manifest: IngestManifest, contract: LineageContract): StepLineage {
  const rows = manifest.rows;
  const fieldsOf = (pick: (c: Contract) => LineageField[]): DatasetFacts => contractFacts(contract, pick);
  const quarantined = rows ? rows.quarantined + rows.duplicates_collapsed : undefined;
  const isParquet = (key: string) => key.endsWith('.parquet');
  return {
    inputs: [vaultDataset('input', bucket, manifest.source.key, { ...fieldsOf(vaultFields.raw), ...(rows ? { rows: rows.source } : {}) })],
    outputs: [
      ...lane(bucket, manifest.outputs.clean, rows?.clean, fieldsOf(vaultFields.clean)),
      ...lane(bucket, manifest.outputs.suspect, rows?.suspect, fieldsOf(vaultFields.suspect)),
      ...lane(bucket, manifest.outputs.quarantine.filter(isParquet), quarantined, fieldsOf(vaultFields.quarantineRows)),
      ...manifest.outputs.quarantine.filter((key) => !isParquet(key)).map((key) => vaultDataset('output', bucket, key)),
    ],
    lanes: rows ? { clean: rows.clean, suspect: rows.suspect, quarantined: quarantined! } : {},
    unit: 'rows',
  };
}

/**
 * How an ingest run ended, from the outcome: a batch ingested (or quarantined whole) is COMPLETE
 * with the raw object in and the lanes out; the part that completes a fanned-out batch completes
 * the batch's run; an object found already ingested completes it too (a no-op unless the holder
 * died before its COMPLETE); a refused object FAILs the run it started. A file waiting for its
 * stream ends nothing yet: its run goes on when the file is replayed.
 *
 * @example
 * const ends = await ingestRunEnds(vault, 'vaultmend-vault', outcome);
 */
export async function ingestRunEnds(store: ObjectStore, bucket: string, outcome: IngestOutcomeLike): Promise<RunEnd[]> {
  if (outcome.status === 'refused') return [{ eventType: 'FAIL', error: `object refused: ${outcome.reason ?? 'unknown'}` }];
  const completes =
    outcome.status === 'ingested' ||
    outcome.status === 'quarantined' ||
    outcome.status === 'already-ingested' ||
    (outcome.status === 'part-ingested' && !!outcome.manifestKey);
  if (!completes || !outcome.batch) return [];
  const manifest = outcome.manifest ?? (await findObject(store, vaultObjects.ingestManifest.at(outcome.batch)));
  if (!manifest) return [];
  const contract = await contractOf(store, manifest.stream, manifest.contract);
  return [{ eventType: 'COMPLETE', run: { step: 'ingest', batch: manifest.batch }, lineage: ingestLineage(bucket, manifest, contract) }];
}
