import type { ObjectStore } from '../store/object-store.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import { vaultObjects } from '../vault/objects.ts';
import type { ReconcileManifest } from '../vault/reconcile-manifest.ts';
import { findObject } from '../vault/vault-object.ts';
import { contractFacts, contractOf } from './contract-of.ts';
import type { LineageRun } from './lineage-run.ts';
import type { InputDataset } from './run-event.ts';
import type { RunEnd, StepLineage } from './step-lineage.ts';
import { vaultDataset } from './vault-dataset.ts';
import { vaultFields } from './vault-fields.ts';

/** The parts of a reconcile outcome this reads (lib/reconcile's ReconcileDelivery or RevisionDelivery, structurally). */
export interface ReconcileOutcomeLike {
  status: string;
  batch: string;
  revision?: number;
  manifest?: ReconcileManifest;
}

/** The batch's lanes in (clean rows, each cluster's staged fixes and quarantined cells, the rows quarantined at ingest), the curated rows and the audit out. */
async function reconcileLineage(store: ObjectStore, bucket: string, manifest: ReconcileManifest): Promise<StepLineage> {
  const { batch } = manifest;
  const ingest = await findObject(store, vaultObjects.ingestManifest.at(batch));
  const clusters = await findObject(store, vaultObjects.clusterManifest.at(batch));
  const contract = ingest ? await contractOf(store, ingest.stream, ingest.contract) : undefined;
  const reviewed = new Set(manifest.reviewed ?? []);
  const results = (
    await Promise.all(
      (clusters?.clusters ?? []).map(({ cluster }) =>
        findObject(store, (reviewed.has(cluster) ? vaultObjects.reviewedResult : vaultObjects.clusterResult).at(batch, cluster)),
      ),
    )
  ).filter((r): r is ClusterResult => r !== undefined);
  const clean = ingest?.outputs.clean ?? [];
  const inputs: InputDataset[] = [
    ...clean.map((key) =>
      vaultDataset('input', bucket, key, {
        ...contractFacts(contract, vaultFields.clean),
        ...(clean.length === 1 && ingest?.rows ? { rows: ingest.rows.clean } : {}),
      }),
    ),
    ...results.flatMap((r) => [
      ...(r.outputs.staged
        ? [vaultDataset('input', bucket, r.outputs.staged, { fields: vaultFields.staged(), rows: r.counts.staged_cells })]
        : []),
      ...(r.outputs.quarantine
        ? [vaultDataset('input', bucket, r.outputs.quarantine, { fields: vaultFields.quarantineCells(), rows: r.counts.quarantined_cells })]
        : []),
    ]),
    ...(ingest?.outputs.quarantine ?? [])
      .filter((key) => key.endsWith('.parquet'))
      .map((key) => vaultDataset('input', bucket, key, contractFacts(contract, vaultFields.quarantineRows))),
  ];
  const { rows } = manifest;
  // The first reconcile's curated object holds every promoted row; a revision's part only the rows no earlier part holds.
  const curatedRows = manifest.revision === undefined ? { rows: rows.clean + rows.fixed } : {};
  return {
    inputs,
    outputs: [
      ...(manifest.curated
        ? [
            vaultDataset('output', bucket, manifest.curated, {
              ...contractFacts(contract, vaultFields.curated),
              ...curatedRows,
            }),
          ]
        : []),
      ...(manifest.audit ? [vaultDataset('output', bucket, manifest.audit.key, { rows: manifest.audit.lines })] : []),
    ],
    lanes: { clean: rows.clean, fixed: rows.fixed, quarantined: rows.quarantined },
    unit: 'rows',
  };
}

/**
 * How a reconcile run ended: the batch's first reconcile, or a revision after people's decisions
 * (a run `r<n>` each: one delivery may revise several times, and each revision it started ends),
 * is COMPLETE with its lanes in and the curated rows and the locked audit out, and the rows per
 * lane (clean, fixed, quarantined). A batch still waiting, or another delivery's work, ends nothing.
 * A data loss throws in the step, so its run ends as FAIL (StepTrace.fail).
 *
 * @example
 * const ends = await reconcileRunEnds(vault, 'vaultmend-vault', outcome, trace.started);
 */
export async function reconcileRunEnds(
  store: ObjectStore,
  bucket: string,
  outcome: ReconcileOutcomeLike,
  started: readonly LineageRun[],
): Promise<RunEnd[]> {
  const { batch } = outcome;
  if (outcome.status === 'reconciled' || outcome.status === 'already-reconciled') {
    if (!outcome.manifest) return [];
    return [{ eventType: 'COMPLETE', run: { step: 'reconcile', batch }, lineage: await reconcileLineage(store, bucket, outcome.manifest) }];
  }
  // Every revision this delivery started and finished ends, whatever the last one came to (a
  // revision n done, then the claim of n + 1 lost to another delivery: n still completes).
  const revisions = new Set(started.filter((r) => r.step === 'reconcile' && r.qualifier).map((r) => Number(r.qualifier!.slice(1))));
  if (outcome.status === 'revised' && outcome.revision !== undefined) revisions.add(outcome.revision);
  const ends: RunEnd[] = [];
  for (const revision of [...revisions].sort((a, b) => a - b)) {
    const manifest =
      revision === outcome.revision && outcome.status === 'revised' && outcome.manifest
        ? outcome.manifest
        : await findObject(store, vaultObjects.revisionManifest.at(batch, revision));
    if (!manifest) continue;
    ends.push({
      eventType: 'COMPLETE',
      run: { step: 'reconcile', batch, qualifier: `r${revision}` },
      lineage: await reconcileLineage(store, bucket, manifest),
    });
  }
  return ends;
}
