import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchId, keys } from '../../lib/keys.ts';
import { eventually, readText, stack, upload } from '../support/vault.ts';

const osls = createRequire(import.meta.url).resolve('osls/bin/serverless.js');

/** `osls invoke local` with a sample event from events/, pointed at the test stack's bucket. */
function invokeLocal(fn: string, sample: string): Promise<unknown> {
  const info = stack();
  const event = readFileSync(join('events', sample), 'utf8').replaceAll('vaultmend-vault', info.bucket);
  const dir = join(info.logDir, '..', 'events');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, sample);
  writeFileSync(path, event);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [osls, 'invoke', 'local', '-f', fn, '--path', path, '--stage', info.stage],
      {
        timeout: 120_000,
        killSignal: 'SIGKILL',
        env: { ...process.env, ...info.env, NODE_OPTIONS: '--import tsx/esm', LOG_LEVEL: 'ERROR' },
      },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`invoke local failed: ${error.message}\n${stderr}\n${stdout}`));
        // The handler's return value is the JSON document osls prints last.
        const start = stdout.lastIndexOf('\n[');
        resolve(JSON.parse(stdout.slice(start + 1)));
      },
    );
  });
}

describe('sample events with osls invoke local', () => {
  const csv = readFileSync('infra/examples/orders.csv', 'utf8');
  const batch = batchId('orders', createHash('sha256').update(csv).digest('hex'));

  it.each(['ingest-rgw.json', 'ingest-aws.json', 'ingest-minio.json'])('%s ingests the example file', async (sample) => {
    await upload('raw/orders/sample.csv', csv);
    await upload('raw/orders/sample copy.csv', csv);
    const result = (await invokeLocal('ingest', sample)) as Array<{ status: string; batch: string }>;
    expect(result).toHaveLength(1);
    // The uploads' own notifications ingest the same content at the same time: one delivery holds
    // the batch (claimed-elsewhere for the others), and the batch is ingested once whichever it is.
    expect(['ingested', 'already-ingested', 'claimed-elsewhere']).toContain(result[0]!.status);
    expect(result[0]!.batch).toBe(batch);
    await eventually('the ingest manifest', () => readText(keys.ingestManifest(batch)));
  });

  it('ingest-unsafe-key.json is refused with a reason code', async () => {
    const result = await invokeLocal('ingest', 'ingest-unsafe-key.json');
    expect(result).toEqual([
      {
        status: 'refused',
        key: 'raw/orders/../../manifests/x.csv',
        reason: 'key-unsafe',
        record: expect.stringMatching(/^quarantine\/_refused\/[0-9a-f]{32}\.json$/),
      },
    ]);
  });
});
