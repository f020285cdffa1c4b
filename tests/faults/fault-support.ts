import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
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
import { FAULT_STACK_ENV } from './fault-stack-env.ts';

/**
 * What every fault test shares: a file of its own, an operator's choice of the date reading,
 * sweeping until a batch is done, the invariants that must hold after any fault, and the same
 * file run with no fault to compare curated bytes with.
 */
export const LEASE_S = Number(FAULT_STACK_ENV['CLAIM_LEASE_S']);
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let sandbox: Sandbox | undefined;
let workDir: string | undefined;

/** Registers the reference stream (the orders contract under another name) and opens a sandbox; `closeFaultSupport` disposes of it. */
export async function openFaultSupport(): Promise<void> {
  const orders = JSON.parse(readFileSync('infra/contracts/orders.json', 'utf8')) as Record<string, unknown>;
  await registerContract(vaultStore(), { ...orders, stream: 'orders_ref' });
  sandbox = new Sandbox();
  workDir = mkdtempSync(join(tmpdir(), 'vaultmend-faults-'));
}

/** Disposes of the sandbox openFaultSupport opened. */
export function closeFaultSupport(): void {
  sandbox?.dispose();
}

/** A file of its own for each point: clean rows, a null token the synthesizer fixes, and the ambiguous date that waits for review. */
export function fileFor(): string {
  const base = (Date.now() % 1_000_000) * 100;
  const rows = Array.from(
    { length: 12 },
    (_, i) => `${base + i + 1},Person ${i},p${i}@example.org,${i % 4 === 1 ? 'N/A' : `${i}.50`},2026-11-0${(i % 9) + 1},row ${i}`,
  );
  rows.push(`${base + 99},Edsger,e@example.org,4.00,11/04/2026,the date`);
  return `order_id,customer,email,amount,ordered_at,note\n${rows.join('\n')}\n`;
}

/** Sweeps until the batch is done (and, when `revised`, past its first revision), as the scheduled sweep would. */
export async function completed(batch: string, revised: boolean): Promise<void> {
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
export async function referenceParts(csv: string, reviewed: boolean): Promise<string[]> {
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
export async function forgetApprovals(stream: string): Promise<void> {
  for (const { signature } of await listRegistered(vaultStore(), stream)) await removeRegistered(vaultStore(), stream, signature);
}

/** An operator chooses the day-month reading of the batch's date cluster. */
export async function decideDate(batch: string): Promise<void> {
  const date = (await batchStatus(vaultStore(), batch)).waiting_for_review.find((w) => w.column === 'ordered_at')!;
  const decided = await decideAsOperator(
    { store: vaultStore(), workDir: workDir!, engine: ENGINE, sandbox: sandbox! },
    { action: 'choose', batch, cluster: date.cluster, operator: 'faults', candidate: 'date:d-m-y' },
  );
  expect(decided.status).toBe('decided');
}

/** The SHA-256 of an object's bytes. */
export async function objectSha(key: string): Promise<string> {
  const out = await s3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: key }));
  return createHash('sha256')
    .update(await out.Body!.transformToByteArray())
    .digest('hex');
}

/** The invariants after a fault (see the file's comment). */
export async function invariantsHold(batch: string, sourceRows: number): Promise<void> {
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

/** One fault tried and whether every invariant held after it. */
export interface FaultOutcome {
  fault: string;
  held: boolean;
  seconds: number;
  error?: string;
}

/**
 * Writes the suite's summary (faults tried, invariants held N of N): to
 * tests/bench/results/faults-<suite>.json on the whole run (FAULTS=all, `npm run test:faults`),
 * else beside the fault stack (a CI run must leave the checkout as it was).
 */
export function writeFaultSummary(suite: string, outcomes: FaultOutcome[]): void {
  const whole = process.env['FAULTS'] === 'all';
  const dir = whole ? resolve('tests/bench/results') : resolve(FAULT_STACK_ENV['STACK_DIR']!);
  mkdirSync(dir, { recursive: true });
  const summary = {
    date: new Date().toISOString().slice(0, 10),
    suite,
    run: whole ? 'all' : 'ci',
    tried: outcomes.length,
    invariants_held: outcomes.filter((o) => o.held).length,
    outcomes,
  };
  writeFileSync(join(dir, `faults-${suite}.json`), `${JSON.stringify(summary, null, 2)}\n`);
}

/** Runs one fault's test body, timing it and recording whether its invariants held (the error is rethrown). */
export async function tried(outcomes: FaultOutcome[], fault: string, body: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await body();
    outcomes.push({ fault, held: true, seconds: Math.round((performance.now() - started) / 100) / 10 });
  } catch (error) {
    outcomes.push({
      fault,
      held: false,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      error: String(error).slice(0, 300),
    });
    throw error;
  }
}
