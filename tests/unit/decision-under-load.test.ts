import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lib/keys.ts';
import { remediateCluster, settledResult, type RemediateDeps } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { startCpuLoad } from '../support/cpu-load.ts';
import { ENGINE, ingestAndCluster, type LocalBatch } from '../support/local-batch.ts';

/**
 * Defect 8: the same cluster decided on an idle machine and with both cores saturated by other
 * processes gives the same decision and the same bytes (the sandbox's limit is CPU time).
 * The limit is set tight (100 ms) so that a wall-clock limit would trip under this load.
 */
const CONTRACT = {
  stream: 'load',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
    { name: 'ordered_on', type: 'date' },
  ],
};
// Many distinct failing values, so that one application of a candidate takes a real share of the limit.
const rows = Array.from(
  { length: 60_000 },
  (_, i) => `${i + 1},${i % 2 === 0 ? `${i + 1}.50 USD` : '1.00'},${i % 4 === 0 ? `0${(i % 9) + 1}/1${i % 9}/2026` : '2026-01-01'}`,
);
const CSV = `id,amount,ordered_on\n${rows.join('\n')}\n`;
const NOW = () => new Date('2026-12-01T00:00:00Z');

let idle: LocalBatch;
let busy: LocalBatch;
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = new Sandbox({ timeoutMs: 100 });
  idle = await ingestAndCluster(CONTRACT, 'load', CSV, 'idle.csv');
  busy = await ingestAndCluster(CONTRACT, 'load', CSV, 'busy.csv');
}, 120_000);
afterAll(() => {
  sandbox.dispose();
  idle.cleanup();
  busy.cleanup();
});

const deps = (b: LocalBatch): RemediateDeps => ({
  store: b.store,
  workDir: b.workDir,
  engine: ENGINE,
  sandbox,
  threshold: 0.75,
  model: undefined,
  now: NOW,
});
const objectsOf = (b: LocalBatch, cluster: string) =>
  [keys.decision(b.batch, cluster), keys.clusterResult(b.batch, cluster), keys.staged('load', b.batch, cluster)].map((k) =>
    readFileSync(join(b.root, k)).toString('base64'),
  );

describe('a cluster decided on an idle and on a saturated machine', () => {
  it('gets the same decision and writes the same bytes', async () => {
    expect(idle.batch).toBe(busy.batch);
    const calm = [];
    for (const spec of idle.clusters) calm.push(settledResult(await remediateCluster(deps(idle), keys.cluster(idle.batch, spec.cluster))));
    const load = await startCpuLoad({ processes: 8, maxMs: 90_000 });
    const loaded = [];
    try {
      for (const spec of busy.clusters)
        loaded.push(settledResult(await remediateCluster(deps(busy), keys.cluster(busy.batch, spec.cluster))));
    } finally {
      await load.stop();
    }
    expect(calm.map((r) => r.disposition)).toContain('fixed');
    expect(loaded.map((r) => [r.cluster, r.disposition, r.tier, r.function?.name, r.confidence])).toEqual(
      calm.map((r) => [r.cluster, r.disposition, r.tier, r.function?.name, r.confidence]),
    );
    for (const r of calm.filter((c) => c.outputs.staged)) expect(objectsOf(busy, r.cluster)).toEqual(objectsOf(idle, r.cluster));
  }, 120_000);
});
