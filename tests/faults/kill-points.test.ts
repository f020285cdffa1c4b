import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { FAULT_POINTS, type FaultPointName } from '../../lib/faults/fault-point.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId } from '../../lib/keys.ts';
import { batchStatus } from '../../lib/operators/batch-status.ts';
import { listRegistered, removeRegistered } from '../../lib/remediate/function-registry.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { planReplay } from '../../lib/replay/replay-batch.ts';
import { sweep } from '../../lib/replay/sweep.ts';
import { decideAsOperator } from '../../lib/review/operator-decision.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { batchRevisions } from '../../lib/vault/revisions.ts';
import { findObject } from '../../lib/vault/vault-object.ts';
import { ENGINE } from '../support/local-batch.ts';
import { eventually, readParquet, s3, stack, upload, vaultStore, versionsOf } from '../support/vault.ts';
import { FAULT_STACK_ENV, FAULTS_DIR } from './fault-stack-env.ts';

/**
 * kill -9 at each named point of each step, on the real stack: the process that reaches the armed
 * point (serverless-offline, which runs the handlers) dies with SIGKILL — no cleanup, no claim
 * released. The supervisor restarts it; the bridge retries the invocation; the claim is taken over
 * after its (short) lease; the sweep re-drives what stopped. Then the invariants: every row id once
 * (`source = clean + fixed + quarantined`), no row twice in curated, the audit chain verifies with
 * one locked version per object, and a replay writes byte-identical curated output.
 * FAULTS=all (npm run test:faults) arms every point; CI arms a subset that fits its time limit.
 */
const CI_POINTS: FaultPointName[] = [
  'ingest:after-clean',
  'cluster:mid-fan-out',
  'remediate:after-decision',
  'remediate:before-result',
  'reconcile:after-audit',
  'reconcile:before-manifest',
  'review:before-result',
  'revise:after-audit',
];
const POINTS: readonly FaultPointName[] = process.env['FAULTS'] === 'all' ? FAULT_POINTS : CI_POINTS;
const LEASE_S = Number(FAULT_STACK_ENV['CLAIM_LEASE_S']);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let sandbox: Sandbox;
let workDir: string;
beforeAll(async () => {
  const orders = JSON.parse(readFileSync('infra/contracts/orders.json', 'utf8')) as Record<string, unknown>;
  await registerContract(vaultStore(), { ...orders, stream: 'orders_ref' });
  sandbox = new Sandbox();
  workDir = mkdtempSync(join(tmpdir(), 'vaultmend-faults-'));
});
afterAll(() => sandbox.dispose());

/** A file of its own for each point: clean rows, a null token the synthesizer fixes, and the ambiguous date that waits for review. */
function fileFor(): string {
  const base = (Date.now() % 1_000_000) * 100;
  const rows = Array.from(
    { length: 12 },
    (_, i) => `${base + i + 1},Person ${i},p${i}@example.org,${i % 4 === 1 ? 'N/A' : `${i}.50`},2026-11-0${(i % 9) + 1},row ${i}`,
  );
  rows.push(`${base + 99},Edsger,e@example.org,4.00,11/04/2026,the date`);
  return `order_id,customer,email,amount,ordered_at,note\n${rows.join('\n')}\n`;
}

/** Sweeps until the batch is done (and, when `revised`, past its first revision), as the scheduled sweep would. */
async function completed(batch: string, revised: boolean): Promise<void> {
  await eventually(
    'the batch complete after the fault',
    async () => {
      await sweep(vaultStore(), { afterSeconds: 0, leaseSeconds: LEASE_S });
      const plan = await planReplay(vaultStore(), batch).catch(() => undefined);
      if (plan?.step !== 'done') return undefined;
      const revisions = await batchRevisions(vaultStore(), batch);
      return !revised || (revisions?.revision ?? 0) >= 1 ? true : undefined;
    },
    240_000,
  );
}

/** The same file through the same steps with no fault (stream `orders_ref`, the same contract): the curated parts' bytes, in order. */
async function referenceParts(csv: string, reviewed: boolean): Promise<string[]> {
  const batch = batchId('orders_ref', sha256(csv));
  await forgetApprovals('orders_ref');
  await upload(`raw/orders_ref/${batch}.csv`, csv);
  await eventually('the reference reconcile', () => findObject(vaultStore(), vaultObjects.reconcileManifest.at(batch)), 180_000);
  if (reviewed) await decideDate(batch);
  await completed(batch, reviewed);
  const m = (await batchRevisions(vaultStore(), batch))!.latest;
  return Promise.all((m.curated_parts ?? (m.curated ? [m.curated] : [])).map(objectSha));
}

/** Removes the stream's registered functions: the date reading a previous test approved would fix the next date at the registry tier, and no cluster would wait for review. */
async function forgetApprovals(stream: string): Promise<void> {
  for (const { signature } of await listRegistered(vaultStore(), stream)) await removeRegistered(vaultStore(), stream, signature);
}

/** An operator chooses the day-month reading of the batch's date cluster. */
async function decideDate(batch: string): Promise<void> {
  const date = (await batchStatus(vaultStore(), batch)).waiting_for_review.find((w) => w.column === 'ordered_at')!;
  const decided = await decideAsOperator(
    { store: vaultStore(), workDir, engine: ENGINE, sandbox },
    { action: 'choose', batch, cluster: date.cluster, operator: 'faults', candidate: 'date:d-m-y' },
  );
  expect(decided.status).toBe('decided');
}

/** The SHA-256 of an object's bytes. */
async function objectSha(key: string): Promise<string> {
  const out = await s3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: key }));
  return createHash('sha256')
    .update(await out.Body!.transformToByteArray())
    .digest('hex');
}

/** The invariants after a fault (see the file's comment). */
async function invariantsHold(batch: string, sourceRows: number): Promise<void> {
  const revisions = (await batchRevisions(vaultStore(), batch))!;
  const m = revisions.latest;
  expect(m.ledger.problems).toEqual({ missing: 0, duplicated: 0, unexpected: 0, mismatched: 0 });
  expect(m.rows.source).toBe(sourceRows);
  expect(m.rows.clean + m.rows.fixed + m.rows.quarantined).toBe(sourceRows);
  const parts = m.curated_parts ?? (m.curated ? [m.curated] : []);
  const ids: number[] = [];
  for (const part of parts) ids.push(...(await readParquet<{ row_id: bigint }>(part, 'SELECT row_id FROM t')).map((r) => Number(r.row_id)));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBe(m.rows.clean + m.rows.fixed);
  const audit = await verifyBatchAudit(vaultStore(), batch);
  expect(audit.ok).toBe(true);
  expect(audit.objects.map((o) => o.later_versions)).toEqual(audit.objects.map(() => 0));
  // Whatever the fault made the steps write twice, each curated part holds one content.
  for (const part of parts) {
    const versions = await versionsOf(part);
    expect(new Set(versions.map((v) => v.eTag)).size, part).toBe(1);
  }
}

describe('kill -9 at a point of a step', () => {
  for (const point of POINTS) {
    it(`${point}: the batch completes, every invariant holds`, async () => {
      writeFileSync(join(FAULTS_DIR, 'armed', point), '');
      const csv = fileFor();
      const batch = batchId('orders', sha256(csv));
      const reviewed = point.startsWith('review:') || point.startsWith('revise:');
      await forgetApprovals('orders');
      await upload(`raw/orders/${batch}.csv`, csv);
      if (reviewed) {
        await eventually('the first reconcile', () => findObject(vaultStore(), vaultObjects.reconcileManifest.at(batch)), 180_000);
        await decideDate(batch);
      }
      await eventually('the armed point to fire', async () => (existsSync(join(FAULTS_DIR, 'fired', point)) ? true : undefined), 180_000);
      await completed(batch, reviewed);
      await invariantsHold(batch, 13);
      // Byte-identical curated output: the same file with no fault writes the same parts.
      const m = (await batchRevisions(vaultStore(), batch))!.latest;
      const parts = await Promise.all((m.curated_parts ?? (m.curated ? [m.curated] : [])).map(objectSha));
      expect(parts).toEqual(await referenceParts(csv, reviewed));
    }, 600_000);
  }
});
