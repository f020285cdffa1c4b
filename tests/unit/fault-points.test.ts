import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterOnce } from '../../lib/cluster/cluster-once.ts';
import { FAULT_POINTS } from '../../lib/faults/fault-point.ts';
import { keys } from '../../lib/keys.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { reviseBatch } from '../../lib/reconcile/revise-batch.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { remediateReviewed } from '../../lib/remediate/remediate-reviewed.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { decideAsOperator } from '../../lib/review/operator-decision.ts';
import { ingestAndCluster, localDeps } from '../support/local-batch.ts';

/**
 * The fault suite's kill points: an armed point kills the process that reaches it (SIGKILL, once,
 * whichever process gets there first), and every declared point is reached by a batch's flow.
 */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vaultmend-faults-'));
  for (const sub of ['armed', 'fired', 'reached']) mkdirSync(join(dir, sub));
});
afterAll(() => {
  delete process.env['VAULTMEND_FAULTS_DIR'];
  delete process.env['VAULTMEND_FAULTS_TRACE'];
  rmSync(dir, { recursive: true, force: true });
});

/** A child process that reaches `point` and then prints `survived`. */
function reach(point: string): Promise<{ signal: string | null; stdout: string }> {
  const script = `import { faultPoint } from './lib/faults/fault-point.ts'; faultPoint(${JSON.stringify(point)}); console.log('survived');`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, VAULTMEND_FAULTS_DIR: dir } },
      (error, stdout) => resolve({ signal: (error as { signal?: string } | null)?.signal ?? null, stdout }),
    );
  });
}

describe('a fault point', () => {
  it('kills the process that reaches it when armed, once', async () => {
    writeFileSync(join(dir, 'armed', 'remediate:after-decision'), '');
    const first = await reach('remediate:after-decision');
    expect(first).toMatchObject({ signal: 'SIGKILL', stdout: '' });
    expect(existsSync(join(dir, 'fired', 'remediate:after-decision'))).toBe(true);
    const second = await reach('remediate:after-decision');
    expect(second).toMatchObject({ signal: null, stdout: 'survived\n' });
  }, 60_000);

  it('does nothing when not armed', async () => {
    expect(await reach('ingest:after-claim')).toMatchObject({ signal: null, stdout: 'survived\n' });
  }, 60_000);
});

describe('the declared points', () => {
  it('are every one reached by a batch that goes through review and a revision', async () => {
    process.env['VAULTMEND_FAULTS_DIR'] = dir;
    process.env['VAULTMEND_FAULTS_TRACE'] = '1';
    const sandbox = new Sandbox();
    const contract = {
      stream: 'traced',
      version: 1,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'amount', type: 'decimal', scale: 2 },
        { name: 'seen_on', type: 'date' },
      ],
    };
    const b = await ingestAndCluster(
      contract,
      'traced',
      'id,amount,seen_on\n1,1.00,2026-01-01\n2,12.50 USD,2026-01-02\n3,2.00,11/04/2026\n',
    );
    try {
      // The local batch was clustered without a claim; a delivery of its manifest takes one (and writes nothing new).
      const deps = localDeps(b, sandbox);
      await clusterOnce(deps.cluster, keys.ingestManifest(b.batch));
      for (const spec of b.clusters) await remediateCluster(deps.remediate, keys.cluster(b.batch, spec.cluster));
      await reconcileOnce(deps.reconcile, b.batch);
      const date = b.clusters.find((c) => c.column === 'seen_on')!.cluster;
      await decideAsOperator(deps.review, { action: 'choose', batch: b.batch, cluster: date, operator: 'tracer', candidate: 'date:d-m-y' });
      await remediateReviewed(deps.remediate, keys.review(b.batch, date));
      await reviseBatch(deps.reconcile, b.batch);
    } finally {
      sandbox.dispose();
      b.cleanup();
      delete process.env['VAULTMEND_FAULTS_TRACE'];
    }
    const reached = new Set(readdirSync(join(dir, 'reached')));
    const missing = FAULT_POINTS.filter((p) => !reached.has(p));
    expect(missing).toEqual([]);
  }, 120_000);
});
