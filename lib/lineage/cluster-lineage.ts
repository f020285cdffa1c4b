import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { ClusterManifest } from '../vault/cluster-manifest.ts';
import { vaultObjects } from '../vault/objects.ts';
import { findObject } from '../vault/vault-object.ts';
import { contractFacts, contractOf } from './contract-of.ts';
import type { RunEnd } from './step-lineage.ts';
import { vaultDataset } from './vault-dataset.ts';
import { vaultFields } from './vault-fields.ts';

/** The parts of a cluster outcome this reads (lib/cluster's ClusterDelivery, structurally). */
export interface ClusterOutcomeLike {
  status: string;
  batch: string;
  manifest?: ClusterManifest;
}

/**
 * How a cluster run ended: COMPLETE (clustered, or nothing to cluster) with the batch's suspect
 * rows in and each cluster's cells object out (its cell count as the rows), the suspect rows as
 * the lane. Another delivery's work (`claimed-elsewhere`) ends nothing here.
 *
 * @example
 * const ends = await clusterRunEnds(vault, 'vaultmend-vault', outcome);
 */
export async function clusterRunEnds(store: ObjectStore, bucket: string, outcome: ClusterOutcomeLike): Promise<RunEnd[]> {
  if (outcome.status !== 'clustered' && outcome.status !== 'nothing-to-cluster') return [];
  const { batch } = outcome;
  const ingest = await findObject(store, vaultObjects.ingestManifest.at(batch));
  const manifest = outcome.manifest ?? (await findObject(store, vaultObjects.clusterManifest.at(batch)));
  const contract = ingest ? await contractOf(store, ingest.stream, ingest.contract) : undefined;
  const suspect = ingest?.outputs.suspect ?? [];
  const suspectRows = ingest?.rows?.suspect;
  return [
    {
      eventType: 'COMPLETE',
      run: { step: 'cluster', batch },
      lineage: {
        inputs: suspect.map((key) =>
          vaultDataset('input', bucket, key, {
            ...contractFacts(contract, vaultFields.suspect),
            ...(suspect.length === 1 && suspectRows !== undefined ? { rows: suspectRows } : {}),
          }),
        ),
        outputs: (manifest?.clusters ?? []).map((c) =>
          vaultDataset('output', bucket, keys.clusterCells(batch, c.cluster), { fields: vaultFields.cells(), rows: c.cells }),
        ),
        lanes: { suspect: manifest?.suspect_rows ?? suspectRows ?? 0 },
        unit: 'rows',
      },
    },
  ];
}
