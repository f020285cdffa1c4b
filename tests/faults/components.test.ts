import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackRestart } from '../../infra/stack.ts';
import { StoreError } from '../../lib/errors.ts';
import { batchId } from '../../lib/keys.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { findObject } from '../../lib/vault/vault-object.ts';
import { eventually, upload, vaultStore, versionsOf } from '../support/vault.ts';
import { FAULT_STACK_ENV, faultStackEnv } from './fault-stack-env.ts';
import {
  closeFaultSupport,
  completed,
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
 * Components failing under a batch, on the fault suite's stack: the S3 server restarted in the
 * middle of a batch; the event bridge killed while files are uploaded (the store's persistent
 * notification queue delivers them once the supervisor has it back, with no sweep); and the same
 * file uploaded under 10 keys at once beside two different files of the stream. After each, the
 * invariants of every fault test hold.
 */
const outcomes: FaultOutcome[] = [];
beforeAll(openFaultSupport);
afterAll(() => {
  closeFaultSupport();
  writeFaultSummary('components', outcomes);
});

/** A probe that reads "not yet" while the store itself is down (the supervisor may be restarting radosgw). */
const whileStoreUp =
  <T>(probe: () => Promise<T | undefined>) =>
  async (): Promise<T | undefined> => {
    try {
      return await probe();
    } catch (error) {
      if (error instanceof StoreError && /ECONNREFUSED|ECONNRESET|socket hang up/.test(error.message)) return undefined;
      throw error;
    }
  };

const reconciled = (batch: string, ms = 240_000) =>
  eventually(
    `batch ${batch} reconciled`,
    whileStoreUp(() => findObject(vaultStore(), vaultObjects.reconcileManifest.at(batch))),
    ms,
  );

/** Waits until the store answers again (after a restart of radosgw by the test or the supervisor). */
const storeAnswers = () =>
  eventually(
    'the store to answer',
    whileStoreUp(async () => ((await vaultStore().list('contracts/')).length ? true : undefined)),
    120_000,
  );

describe('a component failing under a batch', () => {
  it(
    'radosgw restarted in the middle of a batch: the batch completes with the vault intact',
    () =>
      tried(outcomes, 'radosgw restarted mid-batch', async () => {
        await forgetApprovals('orders');
        const csv = fileFor();
        const batch = batchId('orders', sha256(csv));
        await upload(`raw/orders/${batch}.csv`, csv);
        await eventually('the batch ingested', () => findObject(vaultStore(), vaultObjects.ingestManifest.at(batch)), 120_000);
        expect(await stackRestart('radosgw', faultStackEnv(), () => {})).toBe(0);
        await completed(batch, false);
        await invariantsHold(batch, 13);
        const m = (await findObject(vaultStore(), vaultObjects.reconcileManifest.at(batch)))!;
        expect(await Promise.all([m.curated!].map(objectSha))).toEqual(await referenceParts(csv, false));
      }),
    600_000,
  );

  it(
    'the event bridge killed -9 while files are uploaded: their events arrive once it is back, no sweep needed',
    () =>
      tried(outcomes, 'event bridge killed -9 during uploads', async () => {
        await forgetApprovals('orders');
        const state = JSON.parse(readFileSync(join(FAULT_STACK_ENV['STACK_DIR']!, 'stack.json'), 'utf8')) as {
          pids: { name: string; pid: number }[];
        };
        const bridge = state.pids.find((p) => p.name === 'event-bridge')!;
        process.kill(-bridge.pid, 'SIGKILL');
        const files = [fileFor(), fileFor().replace(/row /g, 'line '), fileFor().replace(/row /g, 'entry ')];
        const batches = files.map((csv) => batchId('orders', sha256(csv)));
        await Promise.all(files.map((csv, i) => upload(`raw/orders/${batches[i]}.csv`, csv)));
        for (const batch of batches) await reconciled(batch);
        await storeAnswers();
        for (const batch of batches) await invariantsHold(batch, 13);
      }),
    600_000,
  );

  it(
    'the same file under 10 keys at once, beside two other files of the stream: each batch once',
    () =>
      tried(outcomes, 'one file under 10 keys at once + two other files', async () => {
        await storeAnswers();
        await forgetApprovals('orders');
        const same = fileFor();
        const others = [fileFor().replace(/row /g, 'other '), fileFor().replace(/row /g, 'second ')];
        const batch = batchId('orders', sha256(same));
        await Promise.all([
          ...Array.from({ length: 10 }, (_, i) => upload(`raw/orders/same-${batch}-${i}.csv`, same)),
          ...others.map((csv) => upload(`raw/orders/${batchId('orders', sha256(csv))}.csv`, csv)),
        ]);
        for (const b of [batch, ...others.map((csv) => batchId('orders', sha256(csv)))]) {
          await reconciled(b);
          await completed(b, false);
          await invariantsHold(b, 13);
          expect(await versionsOf(`manifests/${b}/ingest.json`)).toHaveLength(1);
          expect(await versionsOf(`manifests/${b}/reconcile.json`)).toHaveLength(1);
        }
      }),
    600_000,
  );
});
