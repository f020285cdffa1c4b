import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_POINTS, type FaultPointName } from '../../lib/faults/fault-point.ts';
import { batchId } from '../../lib/keys.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { batchRevisions } from '../../lib/vault/revisions.ts';
import { findObject } from '../../lib/vault/vault-object.ts';
import { eventually, upload, vaultStore } from '../support/vault.ts';
import { FAULTS_DIR } from './fault-stack-env.ts';
import {
  closeFaultSupport,
  completed,
  decideDate,
  fileFor,
  forgetApprovals,
  invariantsHold,
  objectSha,
  openFaultSupport,
  referenceParts,
  sha256,
  tried,
  writeFaultSummary,
  type FaultOutcome,
} from './fault-support.ts';

/**
 * kill -9 at each named point of each step, on the real stack: the process that reaches the armed
 * point (serverless-offline, which runs the handlers) dies with SIGKILL — no cleanup, no claim
 * released. The supervisor restarts it; the bridge retries the invocation; the claim is taken over
 * after its (short) lease; the sweep re-drives what stopped. Then the invariants: every row id once
 * (`source = clean + fixed + quarantined`), no row twice in curated, the audit chain verifies with
 * one locked version per object, and the curated parts are byte-identical to the same file run
 * with no fault.
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

const outcomes: FaultOutcome[] = [];
beforeAll(openFaultSupport);
afterAll(() => {
  closeFaultSupport();
  writeFaultSummary('kill-points', outcomes);
});

describe('kill -9 at a point of a step', () => {
  for (const point of POINTS) {
    it(
      `${point}: the batch completes, every invariant holds`,
      () =>
        tried(outcomes, `kill -9 at ${point}`, async () => {
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
          await eventually(
            'the armed point to fire',
            async () => (existsSync(join(FAULTS_DIR, 'fired', point)) ? true : undefined),
            180_000,
          );
          await completed(batch, reviewed);
          await invariantsHold(batch, 13);
          // Byte-identical curated output: the same file with no fault writes the same parts.
          const m = (await batchRevisions(vaultStore(), batch))!.latest;
          const parts = await Promise.all((m.curated_parts ?? (m.curated ? [m.curated] : [])).map(objectSha));
          expect(parts).toEqual(await referenceParts(csv, reviewed));
        }),
      600_000,
    );
  }
});
