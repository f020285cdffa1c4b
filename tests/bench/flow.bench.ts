import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stackDown, stackUp } from '../../infra/stack.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { makeS3Client } from '../../lib/store/s3-client.ts';
import { S3ObjectStore } from '../../lib/store/s3-object-store.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { findObject } from '../../lib/vault/vault-object.ts';
import { DEFAULT_MODEL, startOllamaDouble, type ChatCall, type OllamaDouble, type ScriptedAnswer } from '../support/ollama-double.ts';
import { writeBenchResult } from './bench-files.ts';
import { writeFlowCsv } from './generate-flow.ts';

/**
 * bench:latency and bench:e2e — files through the whole flow on a local stack of their own (Ceph
 * RGW, its notifications, the event bridge, serverless-offline), timed from the upload's PUT to
 * the clean Parquet (the fast lane) and to the reconcile manifest with the curated object and
 * the audit (upload to curated). Each step's own timings come from its manifests.
 *   latency: a 2,500-row file with 6 error patterns (target <= 5 s; once as the first file after the
 *            stack starts, once warm) and a 50,000-row one (<= 8 s);
 *   e2e:     100,000 rows with 5% anomalies in 10 patterns, the Ollama double answering each
 *            call after 300 ms; and the fast lane at 0.1% against 20% anomalies (within 20%),
 *            upload to curated <= 3x the fast lane.
 * The model tier is always the double (the latency files need no call: the synthesizer fixes them).
 * `all` runs both on one stack (what `npm run bench` does).
 * Results: tests/bench/results/latency.json, tests/bench/results/e2e.json.
 */
type Mode = 'latency' | 'e2e';
/** `latency`, `e2e`, or `all` (both on one stack, as `npm run bench` runs them). */
const MODES: Mode[] = process.argv[2] === 'all' ? ['latency', 'e2e'] : [process.argv[2] === 'e2e' ? 'e2e' : 'latency'];
const DEADLINE_S = Number(process.env['BENCH_DEADLINE_S'] ?? 600);
const MODEL_DELAY_MS = 300;
const ENV: Record<string, string> = {
  STACK_DIR: resolve('.stack/flow'),
  RGW_PORT: '57480',
  CEPH_MON_PORT: '53300',
  BRIDGE_PORT: '58787',
  OFFLINE_LAMBDA_PORT: '53002',
  OFFLINE_HTTP_PORT: '53000',
  VAULT_BUCKET: 'vaultmend-flow',
  AUDIT_RETENTION_DAYS: '1',
  STACK_MAX_LIFETIME_S: String(DEADLINE_S + 900),
};

interface FlowCase {
  name: string;
  rows: number;
  anomalyShare: number;
  patterns: number;
  target_s?: number;
}

const CASES: Record<Mode, FlowCase[]> = {
  latency: [
    // The first file after the stack starts: each function's first invocation loads its modules (through tsx here).
    { name: 'small-2500-cold', rows: 2500, anomalyShare: 0.1, patterns: 6, target_s: 5 },
    { name: 'small-2500', rows: 2500, anomalyShare: 0.1, patterns: 6, target_s: 5 },
    { name: 'medium-50000', rows: 50_000, anomalyShare: 0.02, patterns: 6, target_s: 8 },
  ],
  e2e: [
    { name: 'e2e-100k-5pct', rows: 100_000, anomalyShare: 0.05, patterns: 10 },
    { name: 'fast-lane-0.1pct', rows: 100_000, anomalyShare: 0.001, patterns: 10 },
    { name: 'fast-lane-20pct', rows: 100_000, anomalyShare: 0.2, patterns: 10 },
  ],
};

const ORDERS = JSON.parse(readFileSync(resolve('infra/contracts/orders.json'), 'utf8'));

/** The model double's answer: a function for the patterns it recognises in the prompt, after MODEL_DELAY_MS. */
function modelAnswer(call: ChatCall): ScriptedAnswer {
  const prompt = call.messages.map((m) => m.content).join('\n');
  const transformation = prompt.includes('(at)')
    ? 'x => x.replace(" (at) ", "@")'
    : prompt.includes('mailto:')
      ? 'x => x.replace(/^mailto:/, "")'
      : /\d,\d\d/.test(prompt)
        ? 'x => x.replace(",", ".")'
        : 'x => x';
  const body = { transformation, confidence_score: 0.9, reasoning: 'bench double', pattern_type: 'format' };
  return { kind: 'slow', delayMs: MODEL_DELAY_MS, then: { kind: 'json', body } };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, deadline: number): Promise<T | undefined> {
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/** When each step's output of the batch was written, in seconds after the upload (the profile of the flow). */
async function timeline(store: S3ObjectStore, batch: string, started: number): Promise<Record<string, number | number[]>> {
  const at = async (key: string) => ((await store.modifiedAt(key))?.getTime() ?? Number.NaN) - started;
  const s = (ms: number) => Math.round(ms / 100) / 10;
  const results = await store.list(`results/${batch}/`);
  const resultTimes = (await Promise.all(results.map(at))).sort((a, b) => a - b).map(s);
  return {
    ingest_manifest: s(await at(keys.ingestManifest(batch))),
    cluster_manifest: s(await at(keys.clusterManifest(batch))),
    cluster_results: resultTimes,
    reconcile_manifest: s(await at(keys.reconcileManifest(batch))),
  };
}

/** The stack and its clients, and the next free order id (every file is a batch of its own). */
interface Flow {
  s3: ReturnType<typeof makeS3Client>;
  store: S3ObjectStore;
  bucket: string;
  dir: string;
  double: OllamaDouble;
  nextId: number;
}

/** One file through the flow: uploaded, then timed to its clean Parquet and to its reconcile manifest. */
async function runCase(flow: Flow, c: FlowCase): Promise<Record<string, unknown>> {
  const path = join(flow.dir, `${c.name}.csv`);
  const anomalies = await writeFlowCsv(path, c.rows, c.anomalyShare, c.patterns, flow.nextId);
  flow.nextId += c.rows;
  const body = readFileSync(path);
  const batch = batchId('orders', createHash('sha256').update(body).digest('hex'));
  const calls = flow.double.chats.length;
  const started = Date.now();
  await flow.s3.send(new PutObjectCommand({ Bucket: flow.bucket, Key: `raw/orders/${c.name}.csv`, Body: body }));
  const deadline = started + DEADLINE_S * 1000;
  const clean = await waitFor(async () => ((await flow.store.exists(keys.clean('orders', batch, 0))) ? Date.now() : undefined), deadline);
  const reconciled = await waitFor(() => findObject(flow.store, vaultObjects.reconcileManifest.at(batch)), deadline);
  const curatedAt = Date.now();
  const ingest = await findObject(flow.store, vaultObjects.ingestManifest.at(batch));
  const fastLane = clean ? (clean - started) / 1000 : null;
  const curated = reconciled ? (curatedAt - started) / 1000 : null;
  process.stderr.write(`[flow] ${c.name}: fast lane ${fastLane} s, curated ${curated} s\n`);
  return {
    name: c.name,
    rows: c.rows,
    anomalies,
    patterns: c.patterns,
    fast_lane_s: fastLane,
    upload_to_curated_s: curated,
    ...(c.target_s ? { target_s: c.target_s, met: curated !== null && curated <= c.target_s } : {}),
    status: reconciled?.status ?? 'not reconciled',
    lanes: reconciled?.rows ?? null,
    timeline_s: await timeline(flow.store, batch, started),
    model_calls: flow.double.chats.length - calls,
    ingest_timings_ms: ingest?.timings_ms ?? null,
    reconcile_timings_ms: reconciled ? await reconcileTimings(flow.store, batch) : null,
  };
}

/** The reconcile step's own phases, from the batch's report (reports/<batch>.json). */
async function reconcileTimings(store: S3ObjectStore, batch: string): Promise<Record<string, number> | null> {
  try {
    return (JSON.parse(await store.readText(keys.report(batch))) as { timings_ms: { reconcile: Record<string, number> } }).timings_ms
      .reconcile;
  } catch {
    return null;
  }
}

/** The e2e targets from its cases: the fast lane's growth with the anomaly share, and curated over the fast lane. */
function e2eTargets(results: Record<string, unknown>[]): Record<string, number | boolean | null> {
  const byName = (n: string) => results.find((r) => r['name'] === n) as { fast_lane_s: number; upload_to_curated_s: number } | undefined;
  const low = byName('fast-lane-0.1pct')?.fast_lane_s;
  const high = byName('fast-lane-20pct')?.fast_lane_s;
  const e2e = byName('e2e-100k-5pct');
  const growth = low && high ? Number((high / low).toFixed(2)) : null;
  const ratio = e2e ? Number((e2e.upload_to_curated_s / e2e.fast_lane_s).toFixed(2)) : null;
  return {
    fast_lane_growth: growth,
    fast_lane_growth_max: 1.2,
    fast_lane_growth_met: growth !== null && growth <= 1.2,
    curated_over_fast_lane: ratio,
    curated_over_fast_lane_max: 3,
    curated_over_fast_lane_met: ratio !== null && ratio <= 3,
  };
}

async function main(): Promise<void> {
  // The model tier is the double, answering after MODEL_DELAY_MS (the latency files need no call: the synthesizer fixes them).
  const double = await startOllamaDouble({ script: modelAnswer });
  const env = { ...process.env, ...ENV, OLLAMA_HOST: double.url, OLLAMA_MODEL: DEFAULT_MODEL.name };
  await stackDown(env, () => {});
  const info = await stackUp(env, (line) => process.stderr.write(`[flow stack] ${line}\n`));
  const dir = join(tmpdir(), `vaultmend-flow-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const s3 = makeS3Client({ ...info.env, S3_ENDPOINT: info.s3Endpoint } as Parameters<typeof makeS3Client>[0]);
    const flow: Flow = { s3, store: new S3ObjectStore(s3, info.bucket), bucket: info.bucket, dir, double, nextId: 1 };
    await registerContract(flow.store, ORDERS);
    for (const [i, mode] of MODES.entries()) {
      // e2e on a fresh stack: a warm-up file first, so that no case pays for each function's first invocation.
      if (mode === 'e2e' && i === 0) await runCase(flow, { name: 'warm-up', rows: 500, anomalyShare: 0.1, patterns: 6 });
      const results: Record<string, unknown>[] = [];
      for (const c of CASES[mode]) results.push(await runCase(flow, c));
      writeBenchResult(mode, {
        date: new Date().toISOString().slice(0, 10),
        machine: { cpus: cpus().length, node: process.version },
        model: { double: true, delay_ms: MODEL_DELAY_MS },
        cases: results,
        ...(mode === 'e2e' ? { targets: e2eTargets(results) } : {}),
        measured_at: new Date().toISOString(),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stackDown(env, (line) => process.stderr.write(`[flow stack] ${line}\n`));
    await double.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
