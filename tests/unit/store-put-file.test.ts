import { S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lib/store/s3-object-store.ts';

/**
 * A put that times out while its file is removed by the step's clean-up: the error belongs to
 * that one call. Before, a stream opened by path failed with ENOENT outside any promise, and
 * that ended the whole process (serverless-offline, with every invocation in flight).
 */
let server: Server;
let endpoint: string;
let uncaught = 0;
const onUncaught = () => void uncaught++;

beforeAll(async () => {
  // An S3 endpoint that takes each request and never answers.
  server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.prependListener('uncaughtException', onUncaught);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('S3ObjectStore.putFile', () => {
  it('fails only that call when the request times out and the file is removed meanwhile', async () => {
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 3,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true },
    });
    const store = new S3ObjectStore(client, 'bucket');
    const dirs: string[] = [];
    const puts = Array.from({ length: 40 }, async (_, i) => {
      const dir = mkdtempSync(join(tmpdir(), 'vm-putfile-'));
      dirs.push(dir);
      const file = join(dir, 'part.parquet');
      writeFileSync(file, Buffer.alloc(1 << 20, 7));
      const put = store.putFile('k/part.parquet', file);
      // Removed at different moments: before the open, during the hash, during the request.
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), i % 12);
      return put.then(
        () => 'stored',
        (error: Error) => error.message,
      );
    });
    const outcomes = await Promise.all(puts);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    client.destroy();
    expect(uncaught).toBe(0);
    for (const outcome of outcomes) expect(outcome).toMatch(/ENOENT|write s3:\/\/bucket\/k\/part.parquet failed/);
  });
});
