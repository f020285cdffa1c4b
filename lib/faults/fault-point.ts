import { closeSync, openSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A named point in a step where the fault-injection suite may kill the process (kill -9, as a
 * crashed host or an out-of-memory kill would): `VAULTMEND_FAULTS_DIR` names a directory in which
 * the suite arms a point by creating the empty file `armed/<point>`; the first process to reach
 * that point renames it to `fired/<point>` (atomic: exactly one process fires it) and kills itself
 * with SIGKILL — no cleanup, no release of its claims, no flush. Without `VAULTMEND_FAULTS_DIR`
 * (production, and every stack but the fault suite's) a point costs one property read. With
 * `VAULTMEND_FAULTS_TRACE=1` a reached point is only recorded (`reached/<point>`), never fired.
 *
 * @example
 * await putObjectIfAbsent(store, ref, value);
 * faultPoint('remediate:after-decision');
 */
export function faultPoint(point: FaultPointName): void {
  const dir = process.env['VAULTMEND_FAULTS_DIR'];
  if (!dir) return;
  // Tracing (the suite's own check that every declared point is reached): recorded, never fired.
  if (process.env['VAULTMEND_FAULTS_TRACE'] === '1') {
    closeSync(openSync(join(dir, 'reached', point), 'w'));
    return;
  }
  try {
    renameSync(join(dir, 'armed', point), join(dir, 'fired', point));
  } catch {
    return; // not armed (or another process fired it first)
  }
  try {
    closeSync(openSync(join(dir, 'fired', `${point}.pid-${process.pid}`), 'w'));
  } finally {
    process.kill(process.pid, 'SIGKILL');
  }
}

/** The points the steps declare, in flow order (the fault suite arms each; a test checks every one is reached). */
export const FAULT_POINTS = [
  'ingest:after-claim',
  'ingest:after-clean',
  'ingest:before-manifest',
  'ingest:after-manifest',
  'cluster:after-claim',
  'cluster:after-manifest',
  'cluster:mid-fan-out',
  'cluster:after-fan-out',
  'remediate:after-claim',
  'remediate:after-decision',
  'remediate:after-staged',
  'remediate:before-result',
  'remediate:after-result',
  'reconcile:after-claim',
  'reconcile:after-lanes',
  'reconcile:after-audit',
  'reconcile:after-curated',
  'reconcile:before-manifest',
  'reconcile:after-manifest',
  'review:after-claim',
  'review:before-result',
  'revise:after-claim',
  'revise:after-audit',
] as const;
export type FaultPointName = (typeof FAULT_POINTS)[number];
