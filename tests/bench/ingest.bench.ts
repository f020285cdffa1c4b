import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { ingestObject } from '../../lib/ingest/ingest-object.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { writeBenchResult } from './bench-files.ts';
import { writeOrdersCsv } from './generate.ts';

/**
 * bench:ingest — 1,000,000 rows x 6 columns with ~2% suspect rows through the ingest code path
 * (download, fingerprint, drift check, bouncer, Parquet outputs, manifest) against a baseline
 * measured in the same run: DuckDB reading the same CSV and writing one Parquet file. Each
 * side runs in a fresh process so that its peak RSS is its own.
 * Results: tests/bench/results/ingest.json.
 */
const ROWS = Number(process.env['BENCH_ROWS'] ?? 1_000_000);
const SUSPECT_SHARE = 0.02;
const MEMORY_LIMIT = '512MB';
const THREADS = 2;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const LOW_MEMORY_LIMIT = '128MB';
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');

async function runOurs(root: string, memoryLimit = MEMORY_LIMIT): Promise<Record<string, unknown>> {
  const store = new FileObjectStore(root);
  const started = performance.now();
  const outcome = await ingestObject(
    { store, alerts: new LogAlertSink(() => {}), workDir: join(root, '..', 'work'), engine: { memoryLimit, threads: THREADS } },
    { bucket: 'bench', key: 'raw/orders/bench.csv' },
  );
  const seconds = (performance.now() - started) / 1000;
  if (outcome.status !== 'ingested') throw new Error(`bench file was not ingested: ${JSON.stringify(outcome)}`);
  return { seconds, rows: outcome.manifest.rows, timings_ms: outcome.manifest.timings_ms };
}

async function runBaseline(csv: string, out: string): Promise<Record<string, unknown>> {
  const started = performance.now();
  const engine = await Engine.open({ memoryLimit: MEMORY_LIMIT, threads: THREADS, spillDir: join(out, '..', 'spill') });
  try {
    await engine.run(`COPY (SELECT * FROM read_csv('${csv}')) TO '${out}' (FORMAT parquet)`);
  } finally {
    engine.close();
  }
  return { seconds: (performance.now() - started) / 1000 };
}

/** Runs one side in a fresh process (Node 24 with tsx) and returns its report with its peak RSS. */
function child(mode: string, ...args: string[]): Record<string, unknown> & { seconds: number; peak_rss_mb: number } {
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), mode, ...args], {
    cwd: repo,
    timeout: 600_000,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'ours' || mode === 'baseline') {
    const report = mode === 'ours' ? await runOurs(args[0]!, args[1]) : await runBaseline(args[0]!, args[1]!);
    const peak = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(`${JSON.stringify({ ...report, peak_rss_mb: Math.round(peak) })}\n`);
    return;
  }

  const dir = join(tmpdir(), `vaultmend-bench-ingest-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const root = join(dir, 'vault');
  mkdirSync(join(root, 'raw', 'orders'), { recursive: true });
  try {
    const csv = join(root, 'raw', 'orders', 'bench.csv');
    const injected = await writeOrdersCsv(csv, ROWS, SUSPECT_SHARE);
    await registerContract(new FileObjectStore(root), JSON.parse(readFileSync(join(repo, 'infra/contracts/orders.json'), 'utf8')));
    // Best of RUNS for each side (fresh process each time), interleaved so both see the same machine state.
    const runs: Array<{ baseline: ReturnType<typeof child>; ours: ReturnType<typeof child> }> = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(join(root, 'manifests'), { recursive: true, force: true }); // so every run does the whole work
      runs.push({ baseline: child('baseline', csv, join(dir, 'baseline.parquet')), ours: child('ours', root) });
    }
    const best = <K extends 'baseline' | 'ours'>(k: K) => runs.map((r) => r[k]).sort((a, b) => a.seconds - b.seconds)[0]!;
    const baseline = best('baseline');
    const ours = best('ours');
    // The same file under a memory limit far below its size: the engine must spill, not fail.
    rmSync(join(root, 'manifests'), { recursive: true, force: true });
    const constrained = child('ours', root, LOW_MEMORY_LIMIT);
    const result = {
      rows: ROWS,
      columns: 6,
      file_mb: Math.round(statSync(csv).size / 1e5) / 10,
      injected_suspect_rows: injected,
      result_rows: ours['rows'],
      seconds: round(ours.seconds),
      baseline_seconds: round(baseline.seconds),
      rows_per_s: Math.round(ROWS / ours.seconds),
      baseline_rows_per_s: Math.round(ROWS / baseline.seconds),
      ratio: round(ours.seconds / baseline.seconds),
      peak_rss_mb: Math.max(...runs.map((r) => r.ours.peak_rss_mb)),
      baseline_peak_rss_mb: baseline.peak_rss_mb,
      timings_ms: ours['timings_ms'],
      low_memory: {
        memory_limit: LOW_MEMORY_LIMIT,
        seconds: round(constrained.seconds),
        peak_rss_mb: constrained.peak_rss_mb,
        rows: constrained['rows'],
      },
      runs: RUNS,
      all_seconds: runs.map((r) => ({ ours: round(r.ours.seconds), baseline: round(r.baseline.seconds) })),
      engine: { memory_limit: MEMORY_LIMIT, threads: THREADS },
      targets: { ratio_max: 2.0, peak_rss_mb_max: 1024 },
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      measured_at: new Date().toISOString(),
    };
    writeBenchResult('ingest', result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
