import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { replayBatch } from '../../lib/replay/replay-batch.ts';
import { jsonText } from '../../lib/store/json-objects.ts';
import { ReconcileManifestSchema } from '../../lib/vault/reconcile-manifest.ts';
import { ingestAndCluster } from '../support/local-batch.ts';
import { TEST_STACK_ENV } from '../support/test-stack-env.ts';
import { eventually, logLines, readParquet, readText, upload, vaultStore } from '../support/vault.ts';

/**
 * Replay of a half-done batch on the real stack: every remediate invocation of a batch finds its
 * cluster claimed by a holder that was killed (its lease still runs), so the batch stops after its
 * cluster step. `replayBatch` names where it stopped and who holds the work; released, the cluster
 * objects are delivered again through the store's notifications and the batch completes, with a
 * balanced ledger and no row twice.
 */
const CONTRACT = {
  stream: 'replayed',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
    { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' },
  ],
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `npx vaultmend ARGS` (the bin), finding the test stack from its state file; stopped by SIGTERM (which the bin passes on to the CLI) after 60 s. */
function vaultmend(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, STACK_DIR: TEST_STACK_ENV['STACK_DIR'] };
  delete env['S3_ENDPOINT'];
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/vaultmend.mjs', ...args], { timeout: 60_000, killSignal: 'SIGTERM', env }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  await registerContract(vaultStore(), CONTRACT);
});

describe('replay of a batch stopped after its cluster step', () => {
  it('names the step and the live claims, and completes the batch once they are released', async () => {
    const tag = String(1000 + Math.floor(Math.random() * 9000)); // fresh content: a batch of its own
    const csv = `id,amount,code\n1,1.00,ABC-${tag}\n2,12.50 USD,ABC-0002\n3,2.00,abc 7\n4,7.25 USD,ABC-0004\n`;
    const batch = batchId(CONTRACT.stream, sha256(csv));
    // The same content through ingest and cluster on a local store names the same clusters (ids hash the batch and shapes).
    const local = await ingestAndCluster(CONTRACT, CONTRACT.stream, csv);
    const clusters = local.clusters.map((c) => c.cluster);
    local.cleanup();
    expect(local.batch).toBe(batch);
    const now = Date.now();
    for (const cluster of clusters) {
      const scope = `${batch}/remediate/${cluster}`;
      const killed = {
        schema_version: 1,
        scope,
        generation: 0,
        holder: 'killed',
        claimed_at: new Date(now).toISOString(),
        lease_until: new Date(now + 3_600_000).toISOString(),
      };
      await vaultStore().putIfAbsent(keys.claim(scope, 0), jsonText(killed));
    }
    await upload(`raw/${CONTRACT.stream}/half-done.csv`, csv);
    await eventually(
      'every remediate delivery finding its cluster held',
      async () => {
        const skipped = logLines('serverless-offline').filter(
          (l) => l['batch'] === batch && l['message'] === 'cluster claimed by another delivery: skipped',
        );
        return new Set(skipped.map((l) => l['cluster'])).size === clusters.length ? true : undefined;
      },
      90_000,
    );
    expect(await readText(keys.reconcileManifest(batch))).toBeUndefined();

    // The operator's command, against the test stack found by its state file.
    const held = await vaultmend(['replay', batch, '--json']);
    expect(held.code, held.stderr).toBe(1);
    expect(held.stderr).toContain('--release');
    const plan = JSON.parse(held.stdout) as { step: string; replayed: string[]; held: { holder: string }[] };
    expect(plan).toMatchObject({ step: 'remediate', replayed: [] });
    expect(plan.held.map((c) => c.holder)).toEqual(clusters.map(() => 'killed'));

    const released = await vaultmend(['replay', batch, '--release', '--json']);
    expect(released.code, released.stderr).toBe(0);
    const replayed = (JSON.parse(released.stdout) as { replayed: string[] }).replayed;
    expect([...replayed].sort()).toEqual(clusters.map((c) => keys.cluster(batch, c)).sort());
    const manifest = ReconcileManifestSchema.parse(
      JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000)),
    );
    expect(manifest).toMatchObject({
      status: 'promoted',
      rows: { source: 4 },
      ledger: { problems: { missing: 0, duplicated: 0, unexpected: 0, mismatched: 0 } },
    });
    const rows = await readParquet<{ row_id: bigint }>(manifest.curated!);
    const ids = rows.map((r) => Number(r.row_id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length + manifest.rows.quarantined).toBe(4);
    expect((await replayBatch(vaultStore(), batch)).plan.step).toBe('done');
  });
});
