import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { parseContract } from '../../lib/contract/registry.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { SandboxOverloadedError } from '../../lib/errors.ts';
import { keys } from '../../lib/keys.ts';
import type { ReconcileDeps } from '../../lib/reconcile/reconcile-batch.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { storedDecision, storeDecision } from '../../lib/remediate/decide-remediation.ts';
import type { Decision } from '../../lib/vault/decision.ts';
import { measure } from '../../lib/remediate/measure.ts';
import { remediateCluster, type RemediateDeps } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { jsonText } from '../../lib/store/json-objects.ts';
import { ENGINE, ingestAndCluster, type LocalBatch } from '../support/local-batch.ts';

/** Every step once only under duplicate deliveries: decisions, remediation, reconcile, takeover of a dead holder. */
const CONTRACT = {
  stream: 'shop',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
    { name: 'email', type: 'email', pii: true },
    { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' },
  ],
};
const CSV = `id,amount,email,code\n1,1.00,ada@example.org,ABC-0001\n2,12.50 USD,<bob@example.org>,ABC-0002\n3,N/A,cy@example.org,ABC-0003\n4,2.00,di@example.org,abc 7\n5,3.00,<eve@example.org>,ABC-0005\n`;
const NOW = () => new Date('2026-11-23T12:00:00Z');

let sandbox: Sandbox;
const batches: LocalBatch[] = [];
beforeAll(() => {
  sandbox = new Sandbox();
});
afterAll(() => {
  sandbox.dispose();
  for (const b of batches) b.cleanup();
});

async function fresh(name: string): Promise<LocalBatch> {
  const batch = await ingestAndCluster(CONTRACT, 'shop', CSV, name);
  batches.push(batch);
  return batch;
}
const remediateDeps = (b: LocalBatch): RemediateDeps => ({
  store: b.store,
  workDir: b.workDir,
  engine: ENGINE,
  sandbox,
  threshold: 0.75,
  model: undefined,
  now: NOW,
});
const reconcileDeps = (b: LocalBatch): ReconcileDeps => ({
  store: b.store,
  alerts: new LogAlertSink(() => {}),
  keys: new VaultKeyStore(b.store),
  workDir: b.workDir,
  engine: ENGINE,
  auditRetentionDays: 1,
  now: NOW,
});
const bytes = (b: LocalBatch, key: string) => readFileSync(join(b.root, key));
const filesUnder = (b: LocalBatch, prefix: string) => readdirSync(join(b.root, prefix), { recursive: true }).map(String).sort();

describe('decisions', () => {
  it('the first stored decision stands; a second delivery that decided otherwise gets the first one back', async () => {
    const b = await fresh('decisions.csv');
    const first: Decision = {
      schema_version: 1,
      tier: 'review',
      disposition: 'needs-review',
      function: null,
      confidence: 0,
      model: null,
      model_calls: 0,
      reason: 'first',
      tried: [],
      rounds: [],
      decided_at: NOW().toISOString(),
    };
    const second: Decision = { ...first, reason: 'second' };
    expect(await storeDecision(b.store, b.batch, 'c1', first)).toEqual(first);
    expect(await storeDecision(b.store, b.batch, 'c1', second)).toEqual(first);
    expect((await storedDecision(b.store, b.batch, 'c1'))?.reason).toBe('first');
  });
});

describe('remediate delivered five times at once', () => {
  it('remediates once: one holder, one decision, one result', async () => {
    const b = await fresh('race.csv');
    const spec = b.clusters[0]!;
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => remediateCluster(remediateDeps(b), keys.cluster(b.batch, spec.cluster))),
    );
    const statuses = outcomes.map((o) => o.status);
    expect(statuses.filter((s) => s === 'remediated')).toHaveLength(1);
    expect(statuses.every((s) => s === 'remediated' || s === 'claimed-elsewhere' || s === 'already-remediated')).toBe(true);
    expect(filesUnder(b, `claims/${b.batch}/remediate/${spec.cluster}`)).toEqual(['0000.json']);
  });

  it('a claim whose holder died is taken over after its lease, and the taker writes the bytes an undisturbed run writes', async () => {
    const clean = await fresh('clean.csv');
    const crashed = await fresh('crashed.csv');
    const spec = crashed.clusters[0]!;
    // The dead holder claimed the cluster (lease long over) and wrote nothing else.
    const stale = {
      schema_version: 1,
      scope: `${crashed.batch}/remediate/${spec.cluster}`,
      generation: 0,
      holder: 'dead',
      claimed_at: '2026-11-01T00:00:00.000Z',
      lease_until: '2026-11-01T00:06:00.000Z',
    };
    await crashed.store.putIfAbsent(keys.claim(stale.scope, 0), jsonText(stale));
    const taken = await remediateCluster(remediateDeps(crashed), keys.cluster(crashed.batch, spec.cluster));
    expect(taken.status).toBe('remediated');
    expect(filesUnder(crashed, `claims/${crashed.batch}/remediate/${spec.cluster}`)).toEqual(['0000.json', '0001.json']);
    await remediateCluster(remediateDeps(clean), keys.cluster(clean.batch, spec.cluster));
    // Same content -> same batch id and cluster ids in both vaults: outputs compare byte for byte.
    expect(clean.batch).toBe(crashed.batch);
    for (const key of [
      keys.clusterResult(spec.batch, spec.cluster),
      keys.decision(spec.batch, spec.cluster),
      keys.staged('shop', spec.batch, spec.cluster),
    ]) {
      expect(bytes(crashed, key).equals(bytes(clean, key))).toBe(true);
    }
  });
});

describe('reconcile delivered five times at once', () => {
  it('reconciles once: one manifest, one audit, one curated object', async () => {
    const b = await fresh('reconcile.csv');
    for (const spec of b.clusters) await remediateCluster(remediateDeps(b), keys.cluster(b.batch, spec.cluster));
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => reconcileOnce(reconcileDeps(b), b.batch)));
    const statuses = outcomes.map((o) => o.status);
    expect(statuses.filter((s) => s === 'reconciled')).toHaveLength(1);
    expect(statuses.every((s) => s === 'reconciled' || s === 'claimed-elsewhere' || s === 'already-reconciled')).toBe(true);
    expect(filesUnder(b, `claims/${b.batch}/reconcile`)).toEqual(['0000.json']);
  });

  it('a batch still waiting for results takes no claim, so the last result can reconcile it', async () => {
    const b = await fresh('waiting.csv');
    expect(b.clusters.length).toBeGreaterThan(1);
    await remediateCluster(remediateDeps(b), keys.cluster(b.batch, b.clusters[0]!.cluster));
    expect((await reconcileOnce(reconcileDeps(b), b.batch)).status).toBe('waiting');
    for (const spec of b.clusters.slice(1)) await remediateCluster(remediateDeps(b), keys.cluster(b.batch, spec.cluster));
    expect((await reconcileOnce(reconcileDeps(b), b.batch)).status).toBe('reconciled');
  });
});

describe('a machine too busy to judge the sandbox limit', () => {
  it('gives no measurement (so no decision): measure throws SandboxOverloadedError for the invocation to be re-driven', async () => {
    const engine = await Engine.open({ ...ENGINE, spillDir: '/tmp/vaultmend-test-spill' });
    const frozen = new Sandbox({ timeoutMs: 3_000 });
    try {
      expect(await frozen.apply('x => x', ['a'])).toMatchObject({ stopped: false });
      const contract = parseContract(CONTRACT);
      const pattern = { column: contract.columns[1]!, distinct: async () => [{ value: '12.50 USD', cells: 1 }] };
      // About a second of backtracking: long enough to be caught running.
      const slow = { name: 'slow', source: 'x => /^(a+)+$/.test("a".repeat(25) + "b") ? x : x.replace(" USD", "")' };
      const measured = measure({ engine, sandbox: frozen, contract }, pattern, slow);
      await new Promise((resolve) => setTimeout(resolve, 150));
      // A sandbox process that gets no CPU at all (SIGSTOP) is the extreme of a busy machine.
      (frozen as unknown as { child: ChildProcess }).child.kill('SIGSTOP');
      await expect(measured).rejects.toBeInstanceOf(SandboxOverloadedError);
      // The pattern itself is measured as usual where the sandbox gets its CPU.
      expect(
        (await measure({ engine, sandbox, contract }, pattern, { name: 'strip', source: 'x => x.replace(" USD", "")' })).pass_rate,
      ).toBe(1);
    } finally {
      frozen.dispose();
      engine.close();
    }
  }, 60_000);
});
