import { keys } from '../keys.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import type { OutputDataset } from './run-event.ts';
import type { RunEnd } from './step-lineage.ts';
import { vaultDataset } from './vault-dataset.ts';
import { vaultFields } from './vault-fields.ts';

/** The parts of a remediate outcome this reads (lib/remediate's RemediateOutcome or ReviewedOutcome, structurally). */
export interface RemediateOutcomeLike {
  status: string;
  result?: ClusterResult;
}

/**
 * How a remediate run ended: COMPLETE with the cluster's cells in and its staged fixes,
 * quarantined cells and audit rows out (one audit row per fixed cell), the cells fixed and
 * quarantined as the lanes. A reviewed cluster (a person's decision applied) is a run of its own,
 * `<cluster>.reviewed`. Outcomes without a result (claimed elsewhere, a rejection) end nothing.
 *
 * @example
 * const ends = remediateRunEnds('vaultmend-vault', outcome);
 */
export function remediateRunEnds(bucket: string, outcome: RemediateOutcomeLike): RunEnd[] {
  const { result } = outcome;
  if (!result) return [];
  const reviewed = outcome.status === 'reviewed' || outcome.status === 'already-reviewed';
  const { counts } = result;
  const out = (key: string | null, rows: number, fields?: ReturnType<typeof vaultFields.cells>): OutputDataset[] =>
    key ? [vaultDataset('output', bucket, key, { rows, ...(fields ? { fields } : {}) })] : [];
  return [
    {
      eventType: 'COMPLETE',
      run: { step: 'remediate', batch: result.batch, qualifier: reviewed ? `${result.cluster}.reviewed` : result.cluster },
      lineage: {
        inputs: [
          vaultDataset('input', bucket, keys.clusterCells(result.batch, result.cluster), {
            fields: vaultFields.cells(),
            rows: counts.cells,
          }),
        ],
        outputs: [
          ...out(result.outputs.staged, counts.staged_cells, vaultFields.staged()),
          ...out(result.outputs.quarantine, counts.quarantined_cells, vaultFields.quarantineCells()),
          ...out(result.outputs.audit, counts.staged_cells),
        ],
        lanes: { fixed: counts.staged_cells, quarantined: counts.quarantined_cells },
        unit: 'cells',
      },
    },
  ];
}
