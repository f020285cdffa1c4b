import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { resumeStream } from '../../lib/streams/resume-stream.ts';
import { streamState } from '../../lib/streams/stream-control.ts';
import { alertsPosted, eventually, readText, upload, vaultStore } from '../support/vault.ts';

/**
 * The stream's circuit breaker on the real stack: a file where more rows fail than the contract
 * allows halts the stream, keeps the raw object, alerts; an operator's resume with --accept
 * replays it and the batch completes through reconcile.
 */
const STREAM = 'breaker';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the circuit breaker', () => {
  it('halts the stream when too much of a file fails, and a replay after resume completes the batch', async () => {
    await registerContract(vaultStore(), {
      stream: STREAM,
      version: 1,
      max_failing_share: 0.5,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'amount', type: 'decimal', scale: 2 },
      ],
    });
    const tag = randomUUID().slice(0, 8);
    const csv = `id,amount\n1,1.00\n2,2.00 EUR\n3,3.00 EUR\n4,4.00 EUR\n5,${tag.length}.00\n`;
    const key = `raw/${STREAM}/mostly-bad-${tag}.csv`;
    await upload(key, csv);
    const batch = batchId(STREAM, sha256(csv));

    const alert = await eventually('failing-share alert', async () =>
      alertsPosted().find((a) => a['batch'] === batch && a['reason'] === 'failing-share'),
    );
    expect(alert).toMatchObject({ severity: 'SEV1' });
    expect(await streamState(vaultStore(), STREAM)).toMatchObject({ state: 'halted', reason: 'failing-share', batch });
    expect(await readText(keys.ingestManifest(batch))).toBeUndefined();
    expect(await readText(key)).toBe(csv);

    const resumed = await resumeStream(vaultStore(), STREAM, new Date(), { accept: true });
    expect(resumed.replayed).toEqual([key]);
    const manifest = JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000));
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 5, clean: 2, fixed: 3, quarantined: 0 } });
  });

  it('checks the whole file when it fans out into parts, and the accepted replay completes it', async () => {
    const tag = randomUUID().slice(0, 8);
    // Over the test stack's 64 KiB part size: several parts, each ingested by its own invocation.
    // A distinct file per run: ids start at an offset taken from the tag. One row in four is clean.
    const offset = Number.parseInt(tag.slice(0, 6), 16);
    const rows = Array.from({ length: 4_000 }, (_, i) => `${offset + i + 1},${i % 4 === 0 ? `${i}.00` : `${i}.00 EUR`}`);
    const text = `id,amount\n${rows.join('\n')}\n`;
    const key = `raw/${STREAM}/parts-${tag}.csv`;
    expect(text.length).toBeGreaterThan(65_536);
    await upload(key, text);
    const batch = batchId(STREAM, sha256(text));
    await eventually(
      'failing-share alert',
      async () => alertsPosted().find((a) => a['batch'] === batch && a['reason'] === 'failing-share'),
      120_000,
    );
    expect(await streamState(vaultStore(), STREAM)).toMatchObject({ state: 'halted', reason: 'failing-share', batch });
    expect(await readText(keys.ingestManifest(batch))).toBeUndefined();
    await resumeStream(vaultStore(), STREAM, new Date(), { accept: true });
    const manifest = JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 240_000));
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 4_000, clean: 1_000, fixed: 3_000, quarantined: 0 } });
  }, 400_000);
});
