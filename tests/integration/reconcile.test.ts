import { DeleteObjectCommand, GetObjectRetentionCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { reconcileBatch } from '../../lib/reconcile/reconcile-batch.ts';
import { rollbackBatch } from '../../lib/reconcile/rollback.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { ReconcileManifestSchema, type ReconcileManifest } from '../../lib/vault/reconcile-manifest.ts';
import { alertsPosted, eventually, readParquet, readText, s3, stack, upload, vaultStore } from '../support/vault.ts';

/**
 * A batch end to end on the real stack: upload -> ingest -> cluster -> remediate -> reconcile,
 * each step started by the store's notification of the step before; then the write-once
 * audit is attacked through the store itself.
 */
const STREAM = 'clinic';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  await registerContract(vaultStore(), {
    stream: STREAM,
    version: 1,
    columns: [
      { name: 'patient_id', type: 'integer', primary_key: true },
      { name: 'email', type: 'email', pii: true },
      { name: 'weight_kg', type: 'decimal', scale: 1, min: 0 },
      { name: 'seen_on', type: 'date' },
      { name: 'ward', type: 'string', pattern: '[A-Z]-[0-9]{2}' },
    ],
    tests: [
      { type: 'unique', columns: ['email'] },
      { type: 'range', column: 'weight_kg', max: 400 },
    ],
  });
});

async function reconciled(batch: string): Promise<ReconcileManifest> {
  return ReconcileManifestSchema.parse(
    JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000)),
  );
}

async function uploadBatch(name: string, rows: string[]): Promise<string> {
  const csv = `patient_id,email,weight_kg,seen_on,ward\n${rows.join('\n')}\n`;
  await upload(`raw/${STREAM}/${name}.csv`, csv);
  return batchId(STREAM, sha256(csv));
}

describe('reconcile (end to end through upload notifications, on the real stack)', () => {
  let batch: string;
  let manifest: ReconcileManifest;
  let sourceRows: string[];

  beforeAll(async () => {
    const tag = randomUUID().slice(0, 8);
    const rows = [
      `1,ann.${tag}@example.org,61.5,2026-03-01,A-01`,
      `2,<bo.${tag}@example.org>,72 kg,2026-03-02,A-02`,
      `3,cy.${tag}@example.org,80.0,03/15/2026,B-07`,
      `4,di.${tag}@example.org,55.0,2026-03-04,b 7`,
      `5,ed.${tag}@example.org,90.0 kg,2026-03-05,C-11`,
    ];
    sourceRows = rows;
    batch = await uploadBatch(`visits-${tag}`, rows);
    manifest = await reconciled(batch);
  }, 200_000);

  it('promotes clean + fixed rows to curated Parquet with every row id accounted for once', async () => {
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 5, clean: 1, fixed: 3, quarantined: 1 } });
    expect(manifest.ledger.problems).toEqual({ missing: 0, duplicated: 0, unexpected: 0, mismatched: 0 });
    expect(manifest.gates.filter((g) => !g.passed)).toEqual([]);
    const curated = await readParquet<{ row_id: string; weight_kg: number; seen_on: string }>(
      manifest.curated!,
      'SELECT row_id, weight_kg::DOUBLE AS weight_kg, CAST(seen_on AS VARCHAR) AS seen_on FROM t ORDER BY row_id',
    );
    expect(curated.map((r) => [Number(r.row_id), r.weight_kg, r.seen_on])).toEqual([
      [1, 61.5, '2026-03-01'],
      [2, 72, '2026-03-02'],
      [3, 80, '2026-03-15'],
      [5, 90, '2026-03-05'],
    ]);
    expect(manifest.quarantine_reasons).toEqual({ 'needs-review': 1 });
    const report = JSON.parse((await readText(keys.report(batch)))!);
    expect(report.stages).toMatchObject({ source: 5, clean: 1, suspect: 4, fixed: 3, quarantined: 1 });
    expect(await readText(keys.reportPage(batch))).toContain('<b class="promoted" id="status">promoted</b>');
  });

  it('keeps the audit write-once: the store refuses to delete or overwrite the locked version, and verify passes', async () => {
    const { key } = manifest.audit!;
    const bucket = stack().bucket;
    const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const version = head.VersionId!;
    const retention = await s3().send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: version }));
    expect(retention.Retention?.Mode).toBe('COMPLIANCE');
    await expect(s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: version }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    const original = await readText(key, version);
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, VersionId: version, Body: 'tampered\n' } as never));
    expect(await readText(key, version)).toBe(original);
    // The write made a new version on top; the locked first version is still the log, and verify says both.
    const verdict = await verifyBatchAudit(vaultStore(), batch);
    expect(verdict).toMatchObject({ ok: true, retention: { mode: 'COMPLIANCE', ok: true } });
    // At least the tampering; racing reconcile invocations may each have written the same log once.
    expect(verdict.later_versions).toBeGreaterThanOrEqual(1);
    // An edited copy fails.
    const edited = original!.replace('"tier":"synthesizer"', '"tier":"operator"');
    expect(edited).not.toBe(original);
    expect((await verifyBatchAudit(vaultStore(), batch, edited)).ok).toBe(false);
    expect(original).not.toContain(`bo.`);
  });

  it('gives identical objects when reconcile runs again', async () => {
    const deps = {
      store: vaultStore(),
      alerts: { post: async () => {} },
      keys: new VaultKeyStore(vaultStore()),
      workDir: tmpdir(),
      engine: { memoryLimit: '256MB', threads: 1 },
      auditRetentionDays: 1,
    };
    const before = await Promise.all(
      [keys.reconcileManifest(batch), manifest.curated!].map((k) => s3().send(new HeadObjectCommand({ Bucket: stack().bucket, Key: k }))),
    );
    expect((await reconcileBatch(deps, batch)).status).toBe('already-reconciled');
    // Forget the manifest and reconcile from scratch: the same bytes again.
    await vaultStore().remove(keys.reconcileManifest(batch));
    const again = await reconcileBatch(deps, batch);
    expect(again.status).toBe('reconciled');
    const after = await Promise.all(
      [keys.reconcileManifest(batch), manifest.curated!].map((k) => s3().send(new HeadObjectCommand({ Bucket: stack().bucket, Key: k }))),
    );
    expect(after.map((h) => h.ETag)).toEqual(before.map((h) => h.ETag));
    expect(alertsPosted().filter((a) => a['batch'] === batch)).toEqual([]);
  });

  it('rolls the fixes back from the audit: the rows as they arrived', async () => {
    const outcome = await rollbackBatch(
      { store: vaultStore(), keys: new VaultKeyStore(vaultStore()), workDir: tmpdir(), engine: { memoryLimit: '256MB', threads: 1 } },
      batch,
    );
    expect(outcome).toMatchObject({ rows: 4, erased_cells: 0 });
    const rolled = await readParquet<Record<string, string>>(outcome.key);
    const byId = new Map(sourceRows.map((line) => [line.split(',')[0]!, line.split(',')]));
    for (const row of rolled) {
      const original = byId.get(String(row['patient_id']))!;
      expect(row['email']).toBe(original[1]);
      expect(Number.parseFloat(row['weight_kg']!)).toBe(Number.parseFloat(original[2]!));
      if (/kg/.test(original[2]!)) expect(row['weight_kg']).toBe(original[2]);
      expect(row['seen_on']).toBe(original[3]);
    }
  });

  it('blocks promotion when a gate fails, and says so to the alert webhook', async () => {
    const tag = randomUUID().slice(0, 8);
    const gated = await uploadBatch(`gate-${tag}`, [
      `1,same.${tag}@example.org,61.5,2026-03-01,A-01`,
      `2,<same.${tag}@example.org>,70.0,2026-03-02,A-02`,
    ]);
    const m = await reconciled(gated);
    expect(m.status).toBe('gates-failed');
    expect(m.curated).toBeNull();
    expect(m.gates.find((g) => g.gate === 'unique:email')).toMatchObject({ passed: false, sample_row_ids: [1, 2] });
    await eventually('gates-failed alert', async () => alertsPosted().find((a) => a['batch'] === gated && a['reason'] === 'gates-failed'));
    expect(await readText(keys.curated(STREAM, gated))).toBeUndefined();
  });

  it('catches a row lost between stages: the reconcile function alerts SEV1 with the row id and promotes nothing', async () => {
    const tag = randomUUID().slice(0, 8);
    const lossy = await uploadBatch(`loss-${tag}`, [
      `1,a.${tag}@example.org,61.5,2026-03-01,A-01`,
      `2,b.${tag}@example.org,70 kg,2026-03-02,A-02`,
      `3,c.${tag}@example.org,80.0,2026-03-03,A-03`,
    ]);
    const first = await reconciled(lossy);
    expect(first.status).toBe('promoted');
    // Undo the promotion (the audit stays: it is locked), then lose row 3 from the clean lane.
    for (const key of [keys.reconcileManifest(lossy), first.curated!, keys.report(lossy), keys.reportPage(lossy)])
      await vaultStore().remove(key);
    // The reconcile claim goes too (every version: a claim stands by its first), so the replay may reconcile again.
    await vaultStore().removeAllVersions(keys.claim(`${lossy}/reconcile`, 0));
    const cleanKey = keys.clean(STREAM, lossy);
    const dir = mkdtempSync(join(tmpdir(), 'vm-loss-'));
    const engine = await Engine.open({ memoryLimit: '256MB', threads: 1, spillDir: join(dir, 'spill') });
    try {
      const rows = await readParquet<Record<string, unknown>>(cleanKey, 'SELECT count(*) AS n FROM t');
      expect(Number(rows[0]!['n'])).toBe(2);
      const original = join(dir, 'clean.parquet');
      const out = await s3().send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: stack().bucket, Key: cleanKey }));
      writeFileSync(original, await out.Body!.transformToByteArray());
      await engine.run(
        `COPY (SELECT * FROM read_parquet('${original}') WHERE row_id <> 3) TO '${join(dir, 'lossy.parquet')}' (FORMAT parquet)`,
      );
      await vaultStore().putFile(cleanKey, join(dir, 'lossy.parquet'));
    } finally {
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
    // Replaying a result object notifies the flow: reconcile runs again, through the store and serverless-offline.
    const results = first.clusters.count;
    expect(results).toBeGreaterThan(0);
    const resultKey = (await vaultStore().list(`results/${lossy}/`))[0]!;
    await vaultStore().replay(resultKey);
    const alert = await eventually(
      'data-loss alert',
      async () => alertsPosted().find((a) => a['batch'] === lossy && a['reason'] === 'data-loss'),
      90_000,
    );
    expect(alert).toMatchObject({ severity: 'SEV1', custom_details: { missing: [3] } });
    const m = await reconciled(lossy);
    expect(m).toMatchObject({ status: 'data-loss', curated: null, ledger: { missing: [3] } });
    expect(await readText(keys.curated(STREAM, lossy))).toBeUndefined();
  });
});
