import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../lib/keys.ts';
import { remediateCluster, settledResult } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import type { ClusterResult } from '../../lib/vault/cluster-result.ts';
import { ingestAndCluster, localDeps } from '../support/local-batch.ts';

/**
 * Dependency clusters through the real ingest, cluster and remediate steps on a local vault: strong
 * evidence is applied by the evidence function; contested evidence goes to a person straight away
 * (no candidate, no model), with its reason.
 */
const sandbox = new Sandbox();
afterAll(() => sandbox.dispose());

const contract = {
  stream: 'dep-local',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'zip', type: 'string' },
    { name: 'city', type: 'string', nullable: false },
  ],
  tests: [{ type: 'dependency', determinant: ['zip'], dependent: 'city' }],
};

describe('dependency clusters', () => {
  it('fixes the strong group from its evidence and sends the tie to review without asking anyone else', async () => {
    const rows = [...Array.from({ length: 5 }, () => '35233,birmingham'), '35233,birminghxm', '36604,mobile', '36604,mobil'];
    const csv = `id,zip,city\n${rows.map((r, i) => `${i + 1},${r}`).join('\n')}\n`;
    const batch = await ingestAndCluster(contract, contract.stream, csv);
    try {
      const deps = localDeps(batch, sandbox).remediate;
      const results: ClusterResult[] = [];
      for (const spec of batch.clusters) results.push(settledResult(await remediateCluster(deps, keys.cluster(batch.batch, spec.cluster))));
      const byRule = Object.fromEntries(results.map((r) => [r.rule, r]));
      expect(Object.keys(byRule).sort()).toEqual(['dependency', 'dependency-contested']);

      expect(byRule['dependency']).toMatchObject({ disposition: 'fixed', tier: 'synthesizer', model_calls: 0 });
      expect(byRule['dependency']!.function?.name).toBe('group-dominant:zip->city');
      expect(byRule['dependency']!.counts).toMatchObject({ cells: 1, staged_cells: 1 });

      const contested = byRule['dependency-contested']!;
      expect(contested).toMatchObject({ disposition: 'needs-review', tier: 'review', model_calls: 0, function: null });
      expect(contested.counts.cells).toBe(2);
      expect(contested.reason).toContain('contested');
      expect(contested.evidence.tried).toEqual([]);
    } finally {
      batch.cleanup();
    }
  }, 60_000);
});
