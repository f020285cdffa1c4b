import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../lib/store/s3-client.ts';

/**
 * The S3 client's socket pool against a stand-in store that answers every PUT after a delay and
 * counts its connections and the requests it serves at once: far more requests than sockets
 * queue in the agent and all succeed, large bodies (sent with `Expect: 100-continue`) included.
 */
describe('the S3 client socket pool', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('queues 120 concurrent PUTs on S3_MAX_SOCKETS connections, none of them failing', async () => {
    let connections = 0;
    let serving = 0;
    let maxServing = 0;
    let expectContinue = 0;
    server = createServer((req, res) => {
      serving++;
      maxServing = Math.max(maxServing, serving);
      if (req.headers.expect === '100-continue') expectContinue++;
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          serving--;
          res.writeHead(200, { etag: '"0"' }).end();
        }, 15),
      );
    });
    server.on('connection', () => connections++);
    const port = await new Promise<number>((resolve) =>
      server!.listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port)),
    );
    const client = makeS3Client({
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 'secret-key',
      S3_MAX_SOCKETS: 4,
    });
    const big = Buffer.alloc(3 << 20, 1);
    const puts = Array.from({ length: 120 }, (_, i) =>
      client.send(new PutObjectCommand({ Bucket: 'vault', Key: `k/${i}`, Body: i % 20 === 0 ? big : `body ${i}` })),
    );
    const results = await Promise.allSettled(puts);
    client.destroy();
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(expectContinue).toBeGreaterThan(0);
    expect(maxServing).toBeLessThanOrEqual(4);
    // Kept alive and reused: the large uploads too went through the pool, not an agent of their own.
    expect(connections).toBeLessThanOrEqual(4);
  });
});
