import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { RunEventSchema, type RunEvent } from '../../lib/lineage/run-event.ts';
import { lineageRunId } from '../../lib/lineage/run-id.ts';
import { ClusterManifestSchema } from '../../lib/vault/cluster-manifest.ts';
import { ReconcileManifestSchema } from '../../lib/vault/reconcile-manifest.ts';
import { openLineageErrors } from '../support/openlineage-validator.ts';
import { eventually, readText, stack, upload, vaultStore } from '../support/vault.ts';

/**
 * Lineage on the real stack: one file with suspect rows uploaded, each function invoked by the
 * store's notification of the step before; for that batch the vault holds a START and a COMPLETE
 * OpenLineage event of ingest, cluster, remediate (each cluster) and reconcile, each valid against
 * the OpenLineage JSON schema (tests/support/openlineage/), with datasets named in the vault bucket.
 */
const STREAM = 'lineage';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  await registerContract(vaultStore(), {
    stream: STREAM,
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'amount', type: 'decimal', scale: 2 },
      { name: 'seen_on', type: 'date' },
    ],
  });
});

async function lineageEvent(batch: string, run: string, eventType: 'START' | 'COMPLETE'): Promise<RunEvent> {
  const text = await eventually(`${run}.${eventType} of ${batch}`, () => readText(`lineage/${batch}/${run}.${eventType}.json`), 60_000);
  return RunEventSchema.parse(JSON.parse(text));
}

describe('OpenLineage events of a batch on the real stack', () => {
  let batch: string;
  let clusters: string[];

  beforeAll(async () => {
    const tag = randomUUID().slice(0, 8);
    // Ids unique to this run, so the content (and so the batch) is new: 2 rows clean, 2 suspect (an amount with its currency, a null token).
    const id = 1 + Number.parseInt(tag, 16);
    const csv = `id,amount,seen_on\n${id},1.00,2026-01-01\n${id + 1},12.50 USD,2026-01-02\n${id + 2},N/A,2026-01-03\n${id + 3},2.00,2026-01-04\n${id + 4},3.00,2026-01-05\n`;
    await upload(`raw/${STREAM}/visits-${tag}.csv`, csv);
    batch = batchId(STREAM, sha256(csv));
    ReconcileManifestSchema.parse(
      JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000)),
    );
    const manifest = ClusterManifestSchema.parse(JSON.parse((await readText(keys.clusterManifest(batch)))!));
    clusters = manifest.clusters.map((c) => c.cluster);
  }, 200_000);

  it('holds a START and a COMPLETE of each step, each valid against the OpenLineage schema', async () => {
    expect(clusters.length).toBeGreaterThan(0);
    const runs = [
      { name: 'vaultmend.ingest', run: { step: 'ingest' as const, batch } },
      { name: 'vaultmend.cluster', run: { step: 'cluster' as const, batch } },
      ...clusters.map((c) => ({ name: `vaultmend.remediate.${c}`, run: { step: 'remediate' as const, batch, qualifier: c } })),
      { name: 'vaultmend.reconcile', run: { step: 'reconcile' as const, batch } },
    ];
    for (const { name, run } of runs) {
      for (const eventType of ['START', 'COMPLETE'] as const) {
        const event = await lineageEvent(batch, name, eventType);
        expect(openLineageErrors(event), `${name}.${eventType}`).toEqual([]);
        expect(event).toMatchObject({ eventType, job: { namespace: 'vaultmend', name: name.split('.').slice(0, 2).join('.') } });
        expect(event.run.runId, `${name}.${eventType}`).toBe(lineageRunId(run));
      }
    }
    const ingest = await lineageEvent(batch, 'vaultmend.ingest', 'COMPLETE');
    expect(ingest.inputs).toMatchObject([{ namespace: `s3://${stack().bucket}`, inputFacets: { dataQualityMetrics: { rowCount: 5 } } }]);
    expect(ingest.outputs.map((o) => o.name)).toEqual(expect.arrayContaining([keys.clean(STREAM, batch), keys.suspect(STREAM, batch)]));
    const reconcile = await lineageEvent(batch, 'vaultmend.reconcile', 'COMPLETE');
    const manifest = ReconcileManifestSchema.parse(JSON.parse((await readText(keys.reconcileManifest(batch)))!));
    expect(reconcile.outputs.map((o) => o.name)).toEqual([...(manifest.curated ? [manifest.curated] : []), manifest.audit!.key]);
    expect(await vaultStore().list(`lineage/${batch}/`)).not.toEqual(expect.arrayContaining([expect.stringMatching(/\.FAIL\.json$/)]));
  });
});
