import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { resumeStream } from '../../lib/streams/resume-stream.ts';
import { streamState } from '../../lib/streams/stream-control.ts';
import { alertsPosted, eventually, logLines, manifestOf, readText, upload, vaultStore } from '../support/vault.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const contract = (version: number, second: string) => ({
  stream: 'drifty',
  version,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: second, type: 'string' },
    { name: 'qty', type: 'integer' },
  ],
});

describe('schema drift halts the stream until an operator resumes it', () => {
  beforeAll(async () => {
    await registerContract(vaultStore(), contract(1, 'name'));
  });

  it('halts on a renamed column, keeps later files waiting, lets other streams go on, and replays on resume', async () => {
    const store = vaultStore();
    const conforming = `id,name,qty\n1,a,${Math.floor(Math.random() * 1e6)}\n`;
    await upload('raw/drifty/a.csv', conforming);
    expect((await manifestOf(batchId('drifty', sha256(conforming)))).status).toBe('ingested');

    const drifted = `id,full_name,qty\n2,b,${randomUUID().length}\n`;
    await upload('raw/drifty/b.csv', drifted);
    const driftBatch = batchId('drifty', sha256(drifted));
    const report = JSON.parse(await eventually('the drift report', () => readText(keys.driftReport('drifty', driftBatch))));
    expect(report.drift).toEqual({ added: [], missing: [], renamed: [{ from: 'name', to: 'full_name' }], retyped: [] });
    expect((await streamState(store, 'drifty')).state).toBe('halted');
    const alert = await eventually('the SEV1 alert', async () =>
      alertsPosted().find((a) => a['reason'] === 'schema-drift' && a['stream'] === 'drifty'),
    );
    expect(alert).toMatchObject({ severity: 'SEV1', component: 'ingest', batch: driftBatch });

    // A later file of the halted stream is kept and counted, not processed.
    const later = `id,full_name,qty\n3,c,${Date.now() % 1000}\n`;
    await upload('raw/drifty/c.csv', later);
    await eventually('the later file to be held', async () =>
      logLines('serverless-offline').find((l) => l['message'] === 'file waiting: stream halted' && l['key'] === 'raw/drifty/c.csv'),
    );
    expect(await readText(keys.ingestManifest(batchId('drifty', sha256(later))))).toBeUndefined();
    // Listings of a versioned RGW bucket can trail a write by a moment.
    await eventually('both files to be listed as waiting', async () =>
      (await store.list(keys.waitingPrefix('drifty'))).length === 2 ? true : undefined,
    );

    // Other streams go on.
    const orders = `order_id,customer,email,amount,ordered_at,note\n9,Zed,z@example.org,1.00,2026-01-01,${randomUUID()}\n`;
    await upload('raw/orders/during-halt.csv', orders);
    expect((await manifestOf(batchId('orders', sha256(orders)))).status).toBe('ingested');

    // The operator accepts the new schema and resumes: both waiting files are processed.
    await registerContract(store, contract(2, 'full_name'));
    const resumed = await resumeStream(store, 'drifty');
    expect(resumed).toMatchObject({ wasHalted: true, replayed: ['raw/drifty/b.csv', 'raw/drifty/c.csv'] });
    expect((await manifestOf(driftBatch)).rows?.clean).toBe(1);
    expect((await manifestOf(batchId('drifty', sha256(later)))).rows?.clean).toBe(1);
    expect((await streamState(store, 'drifty')).state).toBe('running');
    expect(await store.list(keys.waitingPrefix('drifty'))).toEqual([]);
  });
});
