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
 * write the batch manifest, prints it, then follows the batch through clustering and
 * remediation and prints what became of each error pattern, then the batch's reconciliation
 * (lanes, gates, curated rows, audit root hash), and brings the stack down again.
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

    const batch = batchId(stream, createHash('sha256').update(body).digest('hex'));
    const read = async (objectKey: string): Promise<string> => {
      let text = '';
      await waitFor(`s3://${info.bucket}/${objectKey}`, async () => {
        const out = await s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: objectKey }));
        text = await out.Body!.transformToString();
        return true;
      }, 120_000, `see ${info.logDir}`);
      return text;
    };
    const manifest = await read(keys.ingestManifest(batch));
    console.log(`s3://${info.bucket}/${keys.ingestManifest(batch)}:\n${manifest}`);
    if ((JSON.parse(manifest) as { rows?: { suspect?: number } }).rows?.suspect) {
      const clusters = JSON.parse(await read(keys.clusterManifest(batch))) as { clusters: { cluster: string; column: string; rule: string; cells: number }[] };
      console.log(`${clusters.clusters.length} error pattern(s); remediation:`);
      for (const c of clusters.clusters) {
        const result = JSON.parse(await read(keys.clusterResult(batch, c.cluster))) as {
          disposition: string; tier: string; confidence: number; function: { name: string } | null; counts: { staged_cells: number; quarantined_cells: number }; reason: string;
        };
        console.log(
          `  ${c.column}:${c.rule} (${c.cells} cells) -> ${result.disposition} by ${result.tier}${result.function ? ` (${result.function.name})` : ''}, ` +
            `confidence ${result.confidence.toFixed(2)}, staged ${result.counts.staged_cells}, quarantined ${result.counts.quarantined_cells}` +
            (result.function ? '' : `: ${result.reason}`),
        );
      }
    }
    const reconciled = JSON.parse(await read(keys.reconcileManifest(batch))) as {
      status: string; rows: Record<string, number>; curated: string | null; audit: { key: string; lines: number; root_hash: string } | null;
      gates: { gate: string; passed: boolean }[];
    };
    console.log(
      `reconcile: ${reconciled.status}; rows ${JSON.stringify(reconciled.rows)}; gates ${reconciled.gates.map((g) => `${g.gate} ${g.passed ? 'ok' : 'FAILED'}`).join(', ')}`,
    );
    console.log(`  curated: ${reconciled.curated ?? '(not promoted)'}; audit: ${reconciled.audit?.key} (${reconciled.audit?.lines} lines, root ${reconciled.audit?.root_hash})`);
    console.log(`  report: s3://${info.bucket}/${keys.reportPage(batch)}`);
  } finally {
    if (process.env['KEEP_STACK'] === '1') console.log('KEEP_STACK=1: the stack is still running; `npm run stack:down` stops it');
    else await stackDown();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
