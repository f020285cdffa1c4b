import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { batchId, keys } from '../lib/keys.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { waitFor } from './process.ts';
import { REPO_ROOT, stackDown, stackUp } from './stack.ts';

/**
 * `npm start`: the main job on the local stack. Brings the stack up, drops a file into the raw
 * vault as a source system would, waits for the flow (driven by the store's notifications) to
 * write the batch manifest, prints it, and brings the stack down again.
 * Usage: npm start [-- FILE [STREAM]] (default: infra/examples/orders.csv as stream "orders").
 * KEEP_STACK=1 leaves the stack running afterwards (stop it with `npm run stack:down`).
 */
const file = process.argv[2] ?? join(REPO_ROOT, 'infra/examples/orders.csv');
const stream = process.argv[3] ?? 'orders';

async function main(): Promise<void> {
  const info = await stackUp();
  try {
    const s3 = makeS3Client({ ...info.env, S3_ENDPOINT: info.s3Endpoint } as Parameters<typeof makeS3Client>[0]);
    const body = readFileSync(file);
    const key = `raw/${stream}/${basename(file)}`;
    await s3.send(new PutObjectCommand({ Bucket: info.bucket, Key: key, Body: body }));
    console.log(`uploaded s3://${info.bucket}/${key} (${body.length} bytes)`);

    const manifestKey = keys.ingestManifest(batchId(stream, createHash('sha256').update(body).digest('hex')));
    let manifest = '';
    await waitFor(`the manifest ${manifestKey}`, async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: manifestKey }));
      manifest = await out.Body!.transformToString();
      return true;
    }, 120_000, `see ${info.logDir}`);
    console.log(`s3://${info.bucket}/${manifestKey}:\n${manifest}`);
  } finally {
    if (process.env['KEEP_STACK'] === '1') console.log('KEEP_STACK=1: the stack is still running; `npm run stack:down` stops it');
    else await stackDown();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
