import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertSink } from '../../lib/alerts/alerts.ts';
import { verifyChain, type AuditLine } from '../../lib/audit/audit-chain.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { isSealed, open } from '../../lib/audit/pii-cipher.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { DataLossError } from '../../lib/errors.ts';
import { keys } from '../../lib/keys.ts';
import { reconcileBatch, type ReconcileDeps } from '../../lib/reconcile/reconcile-batch.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { ENGINE, ingestAndCluster, type LocalBatch } from '../support/local-batch.ts';

/** reconcile on batches taken through the real ingest, cluster and remediate steps (local-directory store). */
const CONTRACT = {
  stream: 'shop',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
    { name: 'email', type: 'email', pii: true },
    { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' },
  ],
  tests: [{ type: 'unique', columns: ['email'] }],
};
const csv = (rows: string[]) => `id,amount,email,code\n${rows.join('\n')}\n`;
const ROWS = [
  '1,1.00,ada@example.org,ABC-0001',
  '2,12.50 USD,<bob@example.org>,ABC-0002',
  '3,N/A,cy@example.org,ABC-0003',
  '4,2.00,di@example.org,abc 7',
  '5,3.00,<eve@example.org>,ABC-0005',
];

let sandbox: Sandbox;
let engine: Engine;
beforeAll(async () => {
  sandbox = new Sandbox();
  engine = await Engine.open({ ...ENGINE, spillDir: '/tmp/vaultmend-test-spill' });
});
afterAll(() => {
  sandbox.dispose();
  engine.close();
});

async function remediated(rows: string[], name: string): Promise<LocalBatch> {
  const batch = await ingestAndCluster(CONTRACT, 'shop', csv(rows), name);
  for (const spec of batch.clusters) {
    await remediateCluster(
      { store: batch.store, workDir: batch.workDir, engine: ENGINE, sandbox, threshold: 0.75, model: undefined },
      keys.cluster(batch.batch, spec.cluster),
    );
  }
  return batch;
}

function deps(batch: LocalBatch, alerts: Alert[] = []): ReconcileDeps {
  const sink: AlertSink = { post: async (alert) => void alerts.push(alert) };
  return {
    store: batch.store,
    alerts: sink,
    keys: new VaultKeyStore(batch.store),
    workDir: batch.workDir,
    engine: ENGINE,
    auditRetentionDays: 1,
    now: () => new Date('2026-11-23T13:00:00Z'),
  };
}

describe('reconcile', () => {
  it('accounts for every row id once, promotes clean + fixed rows, and writes a locked, verifiable audit', async () => {
    const batch = await remediated(ROWS, 'full.csv');
    try {
      const outcome = await reconcileBatch(deps(batch), batch.batch);
      expect(outcome.status).toBe('reconciled');
      if (outcome.status !== 'reconciled') return;
      const { manifest } = outcome;
      expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 5, clean: 1, fixed: 3, quarantined: 1 } });
      expect(manifest.ledger.problems).toEqual({ missing: 0, duplicated: 0, unexpected: 0, mismatched: 0 });
      expect(manifest.gates.every((g) => g.passed)).toBe(true);
      expect(manifest.gates.map((g) => g.gate)).toEqual(expect.arrayContaining(['not_null:id', 'unique:id', 'unique:email', 'row_count']));

      const curated = await engine.rows<{ row_id: string; id: string; amount: number | null; email: string }>(
        `SELECT row_id, id, amount::DOUBLE AS amount, email FROM read_parquet('${join(batch.root, manifest.curated!)}') ORDER BY row_id`,
      );
      expect(curated.map((r) => [Number(r.row_id), r.amount, r.email])).toEqual([
        [1, 1, 'ada@example.org'],
        [2, 12.5, 'bob@example.org'],
        [3, null, 'cy@example.org'],
        [5, 3, 'eve@example.org'],
      ]);

      const text = readFileSync(join(batch.root, manifest.audit!.key), 'utf8');
      expect(verifyChain('shop', batch.batch, text, manifest.audit!.root_hash)).toMatchObject({ ok: true, lines: manifest.audit!.lines });
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as AuditLine);
      expect(lines.map((l) => [l.row_id, l.kind, l.column])).toEqual([
        [2, 'cell-changed', 'amount'],
        [2, 'cell-changed', 'email'],
        [3, 'cell-changed', 'amount'],
        [4, 'row-quarantined', null],
        [5, 'cell-changed', 'email'],
      ]);
      // pii in the audit is sealed under the record's data key, and opens with it.
      const email = lines.find((l) => l.column === 'email' && l.row_id === 2)!;
      expect(isSealed(email.old)).toBe(true);
      expect(text).not.toContain('bob@example.org');
      const key = (await new VaultKeyStore(batch.store).existing('shop', email.pk_hash))!;
      expect(open(key, `${batch.batch}|2|email|old`, email.old as never)).toBe('<bob@example.org>');
      expect(await batch.store.retention(manifest.audit!.key)).toMatchObject({ mode: 'COMPLIANCE' });
      await expect(batch.store.remove(manifest.audit!.key)).rejects.toThrow(/locked/);

      // A second run finds the batch reconciled and changes nothing.
      const before = readFileSync(join(batch.root, keys.reconcileManifest(batch.batch)));
      expect((await reconcileBatch(deps(batch), batch.batch)).status).toBe('already-reconciled');
      expect(readFileSync(join(batch.root, keys.reconcileManifest(batch.batch)))).toEqual(before);
    } finally {
      batch.cleanup();
    }
  });

  it('catches a row removed between stages: SEV1 alert with its row id, DataLossError, nothing promoted', async () => {
    const batch = await remediated(ROWS, 'loss.csv');
    try {
      // Plant the loss: row 1 disappears from the clean lane.
      const clean = join(batch.root, keys.clean('shop', batch.batch));
      await engine.run(`COPY (SELECT * FROM read_parquet('${clean}') WHERE row_id <> 1) TO '${clean}.tmp' (FORMAT parquet)`);
      writeFileSync(clean, readFileSync(`${clean}.tmp`));
      const alerts: Alert[] = [];
      await expect(reconcileBatch(deps(batch, alerts), batch.batch)).rejects.toThrow(DataLossError);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ severity: 'SEV1', reason: 'data-loss', details: { missing: [1] } });
      const manifest = JSON.parse(readFileSync(join(batch.root, keys.reconcileManifest(batch.batch)), 'utf8'));
      expect(manifest).toMatchObject({ status: 'data-loss', curated: null, ledger: { missing: [1] } });
      expect(await batch.store.exists(keys.curated('shop', batch.batch))).toBe(false);
    } finally {
      batch.cleanup();
    }
  });

  it("catches a staged fix carrying another row's pk_hash: SEV1 alert with its row id, DataLossError, nothing promoted", async () => {
    const { pkHashOf } = await import('../../lib/contract/pk-hash.ts');
    const { ContractSchema } = await import('../../lib/contract/contract.ts');
    const batch = await remediated(ROWS, 'identity.csv');
    try {
      // Plant the mix-up: every staged fix of row 2 names the record of row 3 (id 3).
      const other = pkHashOf(ContractSchema.parse(CONTRACT), ['3']);
      const staged = batch.clusters
        .map((c) => join(batch.root, keys.staged('shop', batch.batch, c.cluster)))
        .filter((path) => existsSync(path));
      for (const path of staged) {
        await engine.run(
          `COPY (SELECT * REPLACE (CASE WHEN row_id = 2 THEN '${other}' ELSE pk_hash END AS pk_hash) FROM read_parquet('${path}')) TO '${path}.tmp' (FORMAT parquet)`,
        );
        writeFileSync(path, readFileSync(`${path}.tmp`));
      }
      const alerts: Alert[] = [];
      await expect(reconcileBatch(deps(batch, alerts), batch.batch)).rejects.toThrow(DataLossError);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({
        severity: 'SEV1',
        reason: 'data-loss',
        details: { mismatched: [2], missing: [], duplicated: [], unexpected: [] },
      });
      const manifest = JSON.parse(readFileSync(join(batch.root, keys.reconcileManifest(batch.batch)), 'utf8'));
      expect(manifest).toMatchObject({
        status: 'data-loss',
        curated: null,
        ledger: { mismatched: [2], problems: { mismatched: 1, missing: 0 } },
      });
      expect(await batch.store.exists(keys.curated('shop', batch.batch))).toBe(false);
    } finally {
      batch.cleanup();
    }
  });

  it('blocks promotion when a gate fails: a fix that makes two rows share a unique e-mail', async () => {
    const batch = await remediated(['1,1.00,ada@example.org,ABC-0001', '2,2.00,<ada@example.org>,ABC-0002'], 'gate.csv');
    try {
      const alerts: Alert[] = [];
      const outcome = await reconcileBatch(deps(batch, alerts), batch.batch);
      expect(outcome.status === 'reconciled' && outcome.manifest.status).toBe('gates-failed');
      if (outcome.status !== 'reconciled') return;
      expect(outcome.manifest.gates.find((g) => g.gate === 'unique:email')).toMatchObject({
        passed: false,
        failing_rows: 2,
        sample_row_ids: [1, 2],
      });
      expect(outcome.manifest.curated).toBeNull();
      expect(alerts[0]).toMatchObject({ severity: 'SEV2', reason: 'gates-failed' });
      expect(await batch.store.exists(keys.curated('shop', batch.batch))).toBe(false);
    } finally {
      batch.cleanup();
    }
  });
});

describe('after reconcile: verify, erase, roll back, stuck batches', () => {
  let batch: LocalBatch;
  let auditKey: string;
  beforeAll(async () => {
    batch = await remediated(ROWS, 'after.csv');
    const outcome = await reconcileBatch(deps(batch), batch.batch);
    if (outcome.status !== 'reconciled') throw new Error(outcome.status);
    auditKey = outcome.manifest.audit!.key;
  }, 60_000);
  afterAll(() => batch.cleanup());

  it('verify passes on the stored log and names the edited line in a copy', async () => {
    const { verifyBatchAudit } = await import('../../lib/audit/verify-batch-audit.ts');
    expect(await verifyBatchAudit(batch.store, batch.batch)).toMatchObject({ ok: true, retention: { mode: 'COMPLIANCE', ok: true } });
    const lines = readFileSync(join(batch.root, auditKey), 'utf8').split('\n');
    const edited = [...lines];
    edited[1] = edited[1]!.replace('"tier":"synthesizer"', '"tier":"operator"');
    const verdict = await verifyBatchAudit(batch.store, batch.batch, edited.join('\n'));
    expect(verdict.ok).toBe(false);
    expect(verdict.chain.problems[0]).toMatchObject({ line: 3, kind: 'chain-broken' });
    const cut = await verifyBatchAudit(batch.store, batch.batch, lines.slice(0, -2).join('\n'));
    expect(cut.chain.problems.map((p) => p.kind)).toEqual(['root-mismatch']);
  });

  it('erasing a person destroys their key: their values cannot be read, the chain still verifies', async () => {
    const { eraseRecords, recordOf } = await import('../../lib/audit/erase-records.ts');
    const { verifyBatchAudit } = await import('../../lib/audit/verify-batch-audit.ts');
    const { ContractSchema } = await import('../../lib/contract/contract.ts');
    const keyStore = new VaultKeyStore(batch.store);
    const bob = recordOf(ContractSchema.parse(CONTRACT), ['2']);
    const eve = recordOf(ContractSchema.parse(CONTRACT), ['5']);
    expect(await keyStore.existing('shop', bob)).toBeDefined();
    expect(await eraseRecords(keyStore, 'shop', [bob])).toEqual([{ record: bob, destroyed: true }]);
    expect(await keyStore.existing('shop', bob)).toBeUndefined();
    expect(await verifyBatchAudit(batch.store, batch.batch)).toMatchObject({ ok: true });
    const lines = readFileSync(join(batch.root, auditKey), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditLine);
    const bobs = lines.find((l) => l.pk_hash === bob && l.column === 'email')!;
    expect(isSealed(bobs.old)).toBe(true);
    // Eve's values still open with her key.
    const eves = lines.find((l) => l.pk_hash === eve && l.column === 'email')!;
    expect(open((await keyStore.existing('shop', eve))!, `${batch.batch}|5|email|old`, eves.old as never)).toBe('<eve@example.org>');
  });

  it('rollback gives back the rows as they were before remediation', async () => {
    const { rollbackBatch } = await import('../../lib/reconcile/rollback.ts');
    const fresh = await remediated(ROWS, 'rollback.csv');
    try {
      await reconcileBatch(deps(fresh), fresh.batch);
      const outcome = await rollbackBatch(
        { store: fresh.store, keys: new VaultKeyStore(fresh.store), workDir: fresh.workDir, engine: ENGINE },
        fresh.batch,
      );
      expect(outcome).toMatchObject({ rows: 4, reverted_cells: 4, erased_cells: 0 });
      const rolled = await engine.rows<Record<string, string | null>>(
        `SELECT * FROM read_parquet('${join(fresh.root, outcome.key)}') ORDER BY row_id`,
      );
      // The original file, every value as text, for the rows that were promoted.
      const original = await engine.rows<Record<string, string | null>>(
        `SELECT row_number() OVER () AS row_id, * FROM read_csv('${join(fresh.root, 'raw/shop/rollback.csv')}', header = true, all_varchar = true)`,
      );
      for (const row of rolled) {
        const source = original.find((o) => String(o['row_id']) === String(row['row_id']))!;
        expect([row['id'], row['email'], row['code']]).toEqual([source['id'], source['email'], source['code']]);
        // Amounts: the reverted text exactly; untouched ones as the typed value they were promoted as.
        if (Number(row['row_id']) === 1) expect(Number(row['amount'])).toBe(Number(source['amount']));
        else expect(row['amount']).toBe(source['amount']);
      }
    } finally {
      fresh.cleanup();
    }
  });

  it("rollback after an erasure leaves the erased person's pii as promoted and counts it; other cells revert", async () => {
    const { rollbackBatch } = await import('../../lib/reconcile/rollback.ts');
    const { eraseRecords, recordOf } = await import('../../lib/audit/erase-records.ts');
    const { ContractSchema } = await import('../../lib/contract/contract.ts');
    const fresh = await remediated(ROWS, 'erased.csv');
    try {
      await reconcileBatch(deps(fresh), fresh.batch);
      const keyStore = new VaultKeyStore(fresh.store);
      await eraseRecords(keyStore, 'shop', [recordOf(ContractSchema.parse(CONTRACT), ['2'])]);
      const outcome = await rollbackBatch({ store: fresh.store, keys: keyStore, workDir: fresh.workDir, engine: ENGINE }, fresh.batch);
      expect(outcome).toMatchObject({ rows: 4, reverted_cells: 3, erased_cells: 1 });
      const rolled = await engine.rows<{ row_id: string; amount: string | null; email: string }>(
        `SELECT row_id, amount, email FROM read_parquet('${join(fresh.root, outcome.key)}') ORDER BY row_id`,
      );
      // Row 2: its amount (not pii) reverts, its e-mail stays as promoted; row 5's sealed e-mail opens and reverts.
      expect(rolled.find((r) => r.row_id === '2')).toMatchObject({ amount: '12.50 USD', email: 'bob@example.org' });
      expect(rolled.find((r) => r.row_id === '3')).toMatchObject({ amount: 'N/A' });
      expect(rolled.find((r) => r.row_id === '5')).toMatchObject({ email: '<eve@example.org>' });
    } finally {
      fresh.cleanup();
    }
  });

  it('reports a batch whose results never all arrive as stuck, naming the missing clusters', async () => {
    const { stuckBatches } = await import('../../lib/reconcile/stuck-batches.ts');
    const waiting = await ingestAndCluster(CONTRACT, 'shop', csv(ROWS), 'stuck.csv');
    try {
      const first = waiting.clusters[0]!;
      await remediateCluster(
        { store: waiting.store, workDir: waiting.workDir, engine: ENGINE, sandbox, threshold: 0.75, model: undefined },
        keys.cluster(waiting.batch, first.cluster),
      );
      expect((await reconcileBatch(deps(waiting), waiting.batch)).status).toBe('waiting');
      const later = new Date(Date.now() + 7_200_000);
      const stuck = await stuckBatches(waiting.store, 3_600, later);
      expect(stuck).toHaveLength(1);
      expect(stuck[0]!.missing.sort()).toEqual(
        waiting.clusters
          .slice(1)
          .map((c) => c.cluster)
          .sort(),
      );
      expect(await stuckBatches(waiting.store, 3_600, new Date())).toEqual([]);
    } finally {
      waiting.cleanup();
    }
  });
});

describe('per-record data keys', () => {
  it('two invocations making keys for the same records at once end up sealing with the same keys', async () => {
    const { FileObjectStore } = await import('../../lib/store/file-object-store.ts');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const root = mkdtempSync(join(tmpdir(), 'vm-keys-'));
    try {
      const records = ['a', 'b', 'c'].map((c) => c.repeat(64));
      const [first, second] = await Promise.all([
        new VaultKeyStore(new FileObjectStore(root)).keysFor('s', records),
        new VaultKeyStore(new FileObjectStore(root)).keysFor('s', records),
      ]);
      for (const record of records) expect(first!.get(record)!.equals(second!.get(record)!)).toBe(true);
      expect((await new VaultKeyStore(new FileObjectStore(root)).existing('s', records[0]!))!.equals(first!.get(records[0]!)!)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a fixed row is checked again as a whole', () => {
  it('quarantines a row whose fix breaks an expression test, even with a column named like an internal flag', async () => {
    const contract = {
      stream: 'flags',
      version: 1,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'amount', type: 'decimal', scale: 2 },
        { name: 'still_fails', type: 'string' },
      ],
      tests: [{ type: 'expression', name: 'small_amount', expression: 'amount < 100' }],
    };
    const batch = await ingestAndCluster(contract, 'flags', 'id,amount,still_fails\n1,5.00,false\n2,150.00 USD,false\n', 'flags.csv');
    try {
      for (const spec of batch.clusters) {
        await remediateCluster(
          { store: batch.store, workDir: batch.workDir, engine: ENGINE, sandbox, threshold: 0.75, model: undefined },
          keys.cluster(batch.batch, spec.cluster),
        );
      }
      const outcome = await reconcileBatch(deps(batch), batch.batch);
      expect(outcome.status === 'reconciled' && outcome.manifest).toMatchObject({
        status: 'promoted',
        rows: { source: 2, clean: 1, fixed: 0, quarantined: 1 },
        quarantine_reasons: { 'still-fails-after-fix': 1 },
      });
    } finally {
      batch.cleanup();
    }
  });
});

describe('manifests of schema 1 still read', () => {
  it('as schema 2: each `reduction` under the name of what it measures, no identity mismatches', async () => {
    const { ClusterManifestSchema } = await import('../../lib/vault/cluster-manifest.ts');
    const { ReconcileManifestSchema } = await import('../../lib/vault/reconcile-manifest.ts');
    const cluster = ClusterManifestSchema.parse({
      schema_version: 1,
      batch: 'b',
      stream: 's',
      suspect_rows: 4,
      cells: 4,
      exact_groups: 1,
      clusters: [{ cluster: 'c', column: 'a', rule: 'type', shapes: 1, cells: 4 }],
      expected_model_calls: 1,
      reduction: 0.75,
      embedder: { name: 'hashing', dimensions: 8 },
      index: 'flat',
      merge_similarity: 0.85,
      timings_ms: {},
    });
    expect(cluster).toMatchObject({ schema_version: 2, cluster_compression: 0.75 });
    expect(cluster).not.toHaveProperty('reduction');
    const reconcile = ReconcileManifestSchema.parse({
      schema_version: 1,
      batch: 'b',
      stream: 's',
      status: 'promoted',
      as_of: '2026-11-23T13:00:00.000Z',
      rows: { source: 4, clean: 0, fixed: 4, quarantined: 0 },
      ledger: { missing: [], duplicated: [], unexpected: [], problems: { missing: 0, duplicated: 0, unexpected: 0 } },
      gates: [],
      curated: 'curated/s/b.parquet',
      audit: null,
      clusters: { count: 1, by_disposition: { fixed: 1 }, by_tier: { synthesizer: 1 } },
      model_calls: { expected: 1, actual: 0 },
      reduction: 1,
      quarantine_reasons: {},
    });
    expect(reconcile).toMatchObject({
      schema_version: 2,
      model_call_reduction: 1,
      ledger: { mismatched: [], problems: { mismatched: 0 } },
    });
    expect(reconcile).not.toHaveProperty('reduction');
  });
});
