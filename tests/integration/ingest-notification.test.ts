import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IngestManifestSchema } from '../../lib/vault/ingest-manifest.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { eventually, logLines, readText, stack, upload, versionsOf } from '../support/vault.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** An orders CSV unique to this run: 3 data rows (one with a quoted newline), one of them suspect. */
function uniqueCsv(): string {
  const lines = [
    'order_id,customer,email,amount,ordered_at,note',
    `1,Ada,ada@example.org,12.50,2026-11-01,${randomUUID()}`,
    '2,Alan,alan@example.org,7.25,2026-11-02,"two\nlines"',
    '3,Grace,grace@example.org,N/A,2026-11-03,"with ""quotes"""',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

function bridgeInvoked(fn: string, key: string): boolean {
  return logLines('event-bridge').some(
    (l) => l['message'] === 'invoked' && l['function'] === `vaultmend-${stack().stage}-${fn}` && (l['keys'] as string[]).includes(key),
  );
}

function ingestLogged(message: string, key: string): Record<string, unknown> | undefined {
  return logLines('serverless-offline').find((l) => l['message'] === message && l['key'] === key);
}

describe("ingest through the store's own upload notification", () => {
  it('writes the batch manifest after an upload to raw/<stream>/', async () => {
    const csv = uniqueCsv();
    const key = `raw/orders/upload ${randomUUID()}.csv`; // a space: keys must survive encoding
    const versionId = await upload(key, csv);
    const batch = batchId('orders', sha256(csv));

    const text = await eventually('the ingest manifest', () => readText(keys.ingestManifest(batch)));
    const manifest = IngestManifestSchema.parse(JSON.parse(text));
    expect(manifest).toMatchObject({
      schema_version: 2,
      batch,
      stream: 'orders',
      status: 'ingested',
      source: {
        bucket: stack().bucket,
        key,
        version_id: versionId ?? null,
        size: Buffer.byteLength(csv),
        sha256: sha256(csv),
        format: 'csv',
        gzip: false,
      },
      rows: { source: 3, clean: 2, suspect: 1, quarantined: 0, duplicates_collapsed: 0 },
      reasons: { 'amount:type': 1 },
      rejected: null,
      outputs: { clean: [`clean/orders/${batch}/part-0.parquet`], suspect: [`suspect/orders/${batch}/part-0.parquet`], quarantine: [] },
    });
    expect(manifest.schema_fingerprint).toBe(manifest.contract.fingerprint);
    // The function ran because the store notified the bridge, not because the test called it. The
    // bridge logs an invocation when it has ended (RequestResponse): a moment after the manifest.
    await eventually('the ingest invocation', async () => bridgeInvoked('ingest', key) || undefined);
    // The function logs after its manifest is written: its line may reach the log file a moment later.
    expect(await eventually('the ingest log line', async () => ingestLogged('batch ingested', key))).toMatchObject({
      batch,
      function_name: 'vaultmend-local-ingest',
    });
    // ... and its manifest, in turn, was delivered to the next step of the flow.
    await eventually('the cluster invocation', async () => bridgeInvoked('cluster', keys.ingestManifest(batch)) || undefined);
  });

  it('leaves the manifest as it was when the same bytes arrive again', async () => {
    const csv = uniqueCsv();
    const first = `raw/orders/again-${randomUUID()}.csv`;
    await upload(first, csv);
    const manifestKey = keys.ingestManifest(batchId('orders', sha256(csv)));
    const before = await eventually('the first manifest', () => readText(manifestKey));

    // Same key again (a retry), then the same bytes under another name (a duplicate drop).
    await upload(first, csv);
    const second = `raw/orders/again-copy-${randomUUID()}.csv`;
    await upload(second, csv);
    await eventually('the re-upload to be seen', async () => ingestLogged('batch already ingested', second));
    await eventually(
      'the retry to be seen',
      async () => logLines('serverless-offline').filter((l) => l['key'] === first).length >= 2 || undefined,
    );

    expect(await readText(manifestKey)).toBe(before);
    expect(await versionsOf(manifestKey)).toHaveLength(1);
  });

  it('refuses a hostile key without losing the object', async () => {
    const key = `raw/Not A Stream/${randomUUID()}.csv`;
    const body = uniqueCsv();
    await upload(key, body);
    const refused = await eventually('the refusal', async () => ingestLogged('object refused', key));
    expect(refused).toMatchObject({ code: 'key-unsafe', level: 'ERROR' });
    expect(await readText(refused['record'] as string)).toContain('key-unsafe');
    expect(await readText(key)).toBe(body);
  });
});
