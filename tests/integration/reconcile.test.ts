import { DeleteObjectCommand, GetObjectRetentionCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { reconcileBatch } from '../../lib/reconcile/reconcile-batch.ts';
import { ReconcileManifestSchema, type ReconcileManifest } from '../../lib/reconcile/reconcile-manifest.ts';
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
    tests: [{ type: 'unique', columns: ['email'] }, { type: 'range', column: 'weight_kg', max: 400 }],
  });
});

async function reconciled(batch: string): Promise<ReconcileManifest> {
  return ReconcileManifestSchema.parse(JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000)));
}

describe('reconcile (end to end through upload notifications, on the real stack)', () => {
  let batch: string;
  let manifest: ReconcileManifest;

  beforeAll(async () => {
    const tag = randomUUID().slice(0, 8);
    const rows = [
      `1,ann.${tag}@example.org,61.5,2026-03-01,A-01`,
      `2,<bo.${tag}@example.org>,72 kg,2026-03-02,A-02`,
      `3,cy.${tag}@example.org,80.0,03/15/2026,B-07`,
      `4,di.${tag}@example.org,55.0,2026-03-04,b 7`,
      `5,ed.${tag}@example.org,90.0 kg,2026-03-05,C-11`,
    ];
    const csv = `patient_id,email,weight_kg,seen_on,ward\n${rows.join('\n')}\n`;
    await upload(`raw/${STREAM}/visits-${tag}.csv`, csv);
    batch = batchId(STREAM, sha256(csv));
    manifest = await reconciled(batch);
  }, 200_000);

  it('promotes clean + fixed rows to curated Parquet with every row id accounted for once', async () => {
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 5, clean: 1, fixed: 3, quarantined: 1 } });
    expect(manifest.ledger.problems).toEqual({ missing: 0, duplicated: 0, unexpected: 0 });
    expect(manifest.gates.filter((g) => !g.passed)).toEqual([]);
    const curated = await readParquet<{ row_id: string; weight_kg: number; seen_on: string }>(
      manifest.curated!,
      'SELECT row_id, weight_kg::DOUBLE AS weight_kg, CAST(seen_on AS VARCHAR) AS seen_on FROM t ORDER BY row_id',
    );
    expect(curated.map((r) => [Number(r.row_id), r.weight_kg, r.seen_on])).toEqual([
      [1, 61.5, '2026-03-01'], [2, 72, '2026-03-02'], [3, 80, '2026-03-15'], [5, 90, '2026-03-05'],
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
    await expect(s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: version }))).rejects.toMatchObject({ name: 'AccessDenied' });
    const original = await readText(key, version);
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, VersionId: version, Body: 'tampered\n' } as never));
    expect(await readText(key, version)).toBe(original);
    // The write made a new version on top; the locked first version is still the log, and verify says both.
    expect(await verifyBatchAudit(vaultStore(), batch)).toMatchObject({ ok: true, later_versions: 1, retention: { mode: 'COMPLIANCE', ok: true } });
    // An edited copy fails.
    const edited = original!.replace('"tier":"synthesizer"', '"tier":"operator"');
    expect(edited).not.toBe(original);
    expect((await verifyBatchAudit(vaultStore(), batch, edited)).ok).toBe(false);
    expect(original).not.toContain(`bo.`);
  });

  it('gives identical objects when reconcile runs again', async () => {
    const deps = {
      store: vaultStore(), alerts: { post: async () => {} }, keys: new VaultKeyStore(vaultStore()), workDir: tmpdir(),
      engine: { memoryLimit: '256MB', threads: 1 }, auditRetentionDays: 1,
    };
    const before = await Promise.all([keys.reconcileManifest(batch), manifest.curated!].map((k) => s3().send(new HeadObjectCommand({ Bucket: stack().bucket, Key: k }))));
    expect((await reconcileBatch(deps, batch)).status).toBe('already-reconciled');
    // Forget the manifest and reconcile from scratch: the same bytes again.
    await vaultStore().remove(keys.reconcileManifest(batch));
    const again = await reconcileBatch(deps, batch);
    expect(again.status).toBe('reconciled');
    const after = await Promise.all([keys.reconcileManifest(batch), manifest.curated!].map((k) => s3().send(new HeadObjectCommand({ Bucket: stack().bucket, Key: k }))));
    expect(after.map((h) => h.ETag)).toEqual(before.map((h) => h.ETag));
    expect(alertsPosted().filter((a) => a['batch'] === batch)).toEqual([]);
  });
});
