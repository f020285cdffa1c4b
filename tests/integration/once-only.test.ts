import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { ClusterManifestSchema } from '../../lib/vault/cluster-manifest.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { ReconcileManifestSchema } from '../../lib/vault/reconcile-manifest.ts';
import { jsonText } from '../../lib/store/json-objects.ts';
import { ClaimSchema } from '../../lib/vault/claims.ts';
import { eventually, logLines, readText, stack, upload, vaultStore, versionsOf } from '../support/vault.ts';

/**
 * Once only on the real stack: Ceph RGW's versioned vault (where If-None-Match is not honoured)
 * still lets exactly one writer win, and the same cluster and result notifications delivered
 * five times at once give one decision, one reconcile, one curated version, one audit version.
 */
const STREAM = 'onceonly';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  await registerContract(vaultStore(), {
    stream: STREAM,
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'amount', type: 'decimal', scale: 2 },
      { name: 'email', type: 'email', pii: true },
      { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' },
    ],
  });
});

/** The store's own notification for an object, as RGW posts it to the bridge. */
function notification(key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.2',
        eventSource: 'ceph:s3',
        awsRegion: '',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'vaultmend' },
        requestParameters: { sourceIPAddress: '' },
        responseElements: { 'x-amz-request-id': 'dup', 'x-amz-id-2': 'dup' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'duplicate',
          bucket: { name: stack().bucket, ownerIdentity: { principalId: 'vaultmend' }, arn: `arn:aws:s3:::${stack().bucket}` },
          object: { key, size: 1, eTag: '0', sequencer: '0' },
        },
      },
    ],
  });
}

/** Posts the notification `times` times at once; like the store, each retries while the bridge answers 503 (an invocation it could not start). */
async function deliver(key: string, times: number): Promise<void> {
  await Promise.all(
    Array.from({ length: times }, async () => {
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(stack().bridgeUrl, { method: 'POST', body: notification(key), signal: AbortSignal.timeout(30_000) });
        if (res.status === 200) return;
        expect(res.status).toBe(503);
        if (attempt === 10) throw new Error(`the bridge answered 503 ten times for ${key}`);
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }),
  );
}

describe('once only on the real store', () => {
  it('putIfAbsent: of eight racing writers on a versioned bucket one wins, all agree, the losers leave no version', async () => {
    const key = `_test/once/${randomUUID()}.json`;
    const store = vaultStore();
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putIfAbsent(key, `writer ${i}`)));
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    const winner = outcomes.findIndex((o) => o.created);
    expect(new Set(outcomes.map((o) => o.text))).toEqual(new Set([`writer ${winner}`]));
    expect(await store.readFirst(key)).toBe(`writer ${winner}`);
    expect(await versionsOf(key)).toHaveLength(1);
  });

  it('cluster and result objects each delivered five times at once: one decision, one reconcile, one audit version', async () => {
    const tag = randomUUID().slice(0, 8);
    const csv = `id,amount,email,code\n1,1.00,a.${tag}@example.org,ABC-0001\n2,12.50 USD,<b.${tag}@example.org>,ABC-0002\n3,7.25 USD,c.${tag}@example.org,abc 7\n4,2.00,<d.${tag}@example.org>,ABC-0004\n5,N/A,e.${tag}@example.org,xyz 0042\n`;
    const batch = batchId(STREAM, sha256(csv));
    await upload(`raw/${STREAM}/dup-${tag}.csv`, csv);
    const clusters = ClusterManifestSchema.parse(
      JSON.parse(await eventually('cluster manifest', () => readText(keys.clusterManifest(batch)), 60_000)),
    ).clusters;
    expect(clusters.length).toBeGreaterThan(1);
    // Duplicates race the store's own delivery of each cluster object.
    await Promise.all(
      clusters.map((c) =>
        eventually('cluster object', async () => (await readText(keys.cluster(batch, c.cluster))) && true).then(() =>
          deliver(keys.cluster(batch, c.cluster), 5),
        ),
      ),
    );
    await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000);
    const skipped = () =>
      logLines('serverless-offline').filter(
        (l) =>
          l['batch'] === batch &&
          ['batch already-reconciled', 'batch is reconciled by another delivery: skipped'].includes(String(l['message'])),
      ).length;
    const before = skipped();
    await Promise.all(clusters.map((c) => deliver(keys.clusterResult(batch, c.cluster), 5)));
    await eventually('every duplicate result handled', async () => (skipped() >= before + clusters.length * 5 ? true : undefined), 120_000);
    const remediations = logLines('serverless-offline').filter((l) => l['batch'] === batch && l['message'] === 'cluster remediated');
    expect(remediations).toHaveLength(clusters.length);
    for (const c of clusters) {
      expect(await versionsOf(keys.decision(batch, c.cluster))).toHaveLength(1);
      expect(await versionsOf(keys.clusterResult(batch, c.cluster))).toHaveLength(1);
    }
    expect(await versionsOf(keys.reconcileManifest(batch))).toHaveLength(1);
    expect(await versionsOf(keys.curated(STREAM, batch))).toHaveLength(1);
    expect(await versionsOf(keys.audit(STREAM, batch))).toHaveLength(1);
    const verdict = await verifyBatchAudit(vaultStore(), batch);
    expect(verdict).toMatchObject({ ok: true, later_versions: 0 });
  });

  it('steps whose holders were killed after claiming are taken over and the batch completes', async () => {
    const tag = randomUUID().slice(0, 8);
    const csv = `id,amount,email,code\n1,1.00,k.${tag}@example.org,ABC-0001\n2,9.99 USD,<l.${tag}@example.org>,ABC-0002\n3,4.00,m.${tag}@example.org,ABC-0003\n`;
    const batch = batchId(STREAM, sha256(csv));
    // Holders that claimed ingest, cluster and reconcile of this batch and died (their leases ran out long ago).
    const dead = (step: string) => ({
      schema_version: 1,
      scope: `${batch}/${step}`,
      generation: 0,
      holder: 'killed',
      claimed_at: '2026-11-01T00:00:00.000Z',
      lease_until: '2026-11-01T00:06:00.000Z',
    });
    for (const step of ['ingest', 'cluster', 'reconcile'])
      await vaultStore().putIfAbsent(keys.claim(`${batch}/${step}`, 0), jsonText(dead(step)));
    await upload(`raw/${STREAM}/killed-${tag}.csv`, csv);
    const manifest = ReconcileManifestSchema.parse(
      JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000)),
    );
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 3, quarantined: 0 } });
    for (const step of ['ingest', 'cluster', 'reconcile']) {
      const taker = ClaimSchema.parse(JSON.parse((await readText(keys.claim(`${batch}/${step}`, 1)))!));
      expect(taker.holder).not.toBe('killed');
    }
  });
});
