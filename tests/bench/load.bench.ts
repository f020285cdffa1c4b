import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { stackDown, stackUp } from '../../infra/stack.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { makeS3Client } from '../../lib/store/s3-client.ts';
import { S3ObjectStore } from '../../lib/store/s3-object-store.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { findObject } from '../../lib/vault/vault-object.ts';
import { writeBenchResult } from './bench-files.ts';
import { writeOrdersCsv } from './generate.ts';

/**
 * bench:load — BENCH_FILES (200) files of BENCH_ROWS (10,000) orders rows, ~1% suspect, uploaded at
 * once (16 PUTs in flight) to a stack of its own; every batch must reconcile with no hand step.
 * Measures the wall time to the last reconcile, throughput, upload-to-reconciled p50/p95, the peak
 * RSS of every stack process (the process and its children, sampled each second), and the errors
 * (dead-lettered invocations, batches not reconciled). Targets here: all promoted within 10
 * minutes, no process above 2 GiB. Results: tests/bench/results/load.json.
 */
const FILES = Number(process.env['BENCH_FILES'] ?? 200);
const ROWS = Number(process.env['BENCH_ROWS'] ?? 10_000);
const DEADLINE_S = Number(process.env['BENCH_DEADLINE_S'] ?? 1200);
const ENV: Record<string, string> = {
  STACK_DIR: resolve('.stack/load'),
  RGW_PORT: '47480',
  CEPH_MON_PORT: '43300',
  BRIDGE_PORT: '48787',
  OFFLINE_LAMBDA_PORT: '43002',
  OFFLINE_HTTP_PORT: '43000',
  VAULT_BUCKET: 'vaultmend-load',
  AUDIT_RETENTION_DAYS: '1',
  STACK_MAX_LIFETIME_S: String(DEADLINE_S + 900),
};

/** Resident memory (MiB) of each process of the table, and their parent links, from ps. */
function processTable(): Map<number, { ppid: number; rss: number; command: string }> {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,comm='], { encoding: 'utf8', timeout: 10_000 });
  const table = new Map<number, { ppid: number; rss: number; command: string }>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m) table.set(Number(m[1]), { ppid: Number(m[2]), rss: Number(m[3]) / 1024, command: m[4]! });
  }
  return table;
}

/** Per stack component: the peak RSS of its tree (it and its children), and of its largest single process. */
function sampleRss(roots: { name: string; pid: number }[], peaks: Record<string, { tree_mb: number; process_mb: number }>): void {
  const table = processTable();
  for (const { name, pid } of roots) {
    let tree = 0;
    let largest = 0;
    const stack = [pid];
    while (stack.length) {
      const p = stack.pop()!;
      const entry = table.get(p);
      if (entry) {
        tree += entry.rss;
        largest = Math.max(largest, entry.rss);
      }
      for (const [child, e] of table) if (e.ppid === p) stack.push(child);
    }
    const peak = (peaks[name] ??= { tree_mb: 0, process_mb: 0 });
    peak.tree_mb = Math.max(peak.tree_mb, Math.round(tree));
    peak.process_mb = Math.max(peak.process_mb, Math.round(largest));
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function main(): Promise<void> {
  const env = { ...process.env, ...ENV };
  await stackDown(env, () => {});
  const info = await stackUp(env, (line) => process.stderr.write(`[load stack] ${line}\n`));
  const dir = join(tmpdir(), `vaultmend-load-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const s3 = makeS3Client({ ...info.env, S3_ENDPOINT: info.s3Endpoint } as Parameters<typeof makeS3Client>[0]);
    const store = new S3ObjectStore(s3, info.bucket);
    const files: { key: string; batch: string; path: string }[] = [];
    for (let f = 0; f < FILES; f++) {
      const path = join(dir, `load-${f}.csv`);
      await writeOrdersCsv(path, ROWS, 0.01, 1 + f * ROWS);
      const batch = batchId('orders', createHash('sha256').update(readFileSync(path)).digest('hex'));
      files.push({ key: `raw/orders/load-${f}.csv`, batch, path });
    }
    const state = JSON.parse(readFileSync(join(ENV['STACK_DIR']!, 'stack.json'), 'utf8')) as { pids: { name: string; pid: number }[] };
    const peaks: Record<string, { tree_mb: number; process_mb: number }> = {};
    const sampler = setInterval(() => sampleRss(state.pids, peaks), 1000);
    const started = Date.now();
    const uploadedAt = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < files.length) {
          const file = files[next++]!;
          await s3.send(new PutObjectCommand({ Bucket: info.bucket, Key: file.key, Body: readFileSync(file.path) }));
          uploadedAt.set(file.batch, Date.now());
        }
      }),
    );
    const uploadSeconds = (Date.now() - started) / 1000;
    const done = new Map<string, { at: number; status: string }>();
    while (done.size < files.length && Date.now() - started < DEADLINE_S * 1000) {
      for (const file of files) {
        if (done.has(file.batch)) continue;
        const manifest = await findObject(store, vaultObjects.reconcileManifest.at(file.batch));
        if (manifest)
          done.set(file.batch, { at: (await store.modifiedAt(keys.reconcileManifest(file.batch)))!.getTime(), status: manifest.status });
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
    clearInterval(sampler);
    const wall = (Math.max(...[...done.values()].map((d) => d.at), started) - started) / 1000;
    const latencies = files
      .filter((f) => done.has(f.batch))
      .map((f) => (done.get(f.batch)!.at - uploadedAt.get(f.batch)!) / 1000)
      .sort((a, b) => a - b);
    const queue = (await (await fetch(`http://127.0.0.1:${ENV['BRIDGE_PORT']}/queue`)).json()) as Record<string, { dead: number }>;
    const statuses = [...done.values()].reduce<Record<string, number>>((acc, d) => ({ ...acc, [d.status]: (acc[d.status] ?? 0) + 1 }), {});
    const maxProcess = Math.max(...Object.values(peaks).map((p) => p.process_mb));
    writeBenchResult('load', {
      date: new Date().toISOString().slice(0, 10),
      machine: { cpus: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30) },
      files: FILES,
      rows_per_file: ROWS,
      upload_seconds: Number(uploadSeconds.toFixed(1)),
      reconciled: done.size,
      statuses,
      not_reconciled: files.length - done.size,
      wall_seconds_to_last_reconcile: Number(wall.toFixed(1)),
      rows_per_s: Math.round((done.size * ROWS) / Math.max(wall, 1)),
      latency_s: {
        p50: Number(quantile(latencies, 0.5).toFixed(1)),
        p95: Number(quantile(latencies, 0.95).toFixed(1)),
        max: latencies.at(-1) ?? null,
      },
      peak_rss_mb: peaks,
      dead_letters: Object.fromEntries(Object.entries(queue).map(([fn, q]) => [fn, q.dead])),
      targets: {
        all_promoted_within_10_min: done.size === files.length && wall <= 600 && (statuses['promoted'] ?? 0) === files.length,
        no_process_above_2_gib: maxProcess <= 2048,
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stackDown(env, (line) => process.stderr.write(`[load stack] ${line}\n`));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
