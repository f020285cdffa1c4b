import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchResult } from './bench-files.ts';

/**
 * `npm run bench`: every benchmark, one after the other (each in its own process, with a timeout),
 * then one summary: tests/bench/results/latest.json (each benchmark's result and wall time) and a
 * Markdown table, tests/bench/results/latest.md, of each headline figure beside its baseline and
 * target, with the machine and the date. The table also replaces the block between the
 * `<!-- bench:latest -->` markers of README.md. A benchmark that fails is reported as failed,
 * and the run exits 1 after the summary is written.
 */
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');

/** One row of the table: a figure, what it is compared with, and whether its target is met. */
interface Figure {
  figure: string;
  value: string;
  baseline?: string;
  target?: string;
  met?: boolean | null;
}

type Json = Record<string, any>;

interface Bench {
  name: string;
  script: string;
  results: string[];
  timeoutS: number;
  figures: (results: Json[]) => Figure[];
}

const s = (n: unknown, unit = 's') => (typeof n === 'number' ? `${Math.round(n * 100) / 100} ${unit}` : 'n/a');

const BENCHES: Bench[] = [
  {
    name: 'ingest',
    script: 'bench:ingest',
    results: ['ingest'],
    timeoutS: 600,
    figures: ([r]) => [
      {
        figure: `ingest ${r!.rows.toLocaleString('en')} rows x 6 (${r!.file_mb} MB)`,
        value: s(r!.seconds),
        baseline: `DuckDB COPY ${s(r!.baseline_seconds)} (${r!.ratio}x)`,
        target: '<= 1.5x DuckDB',
        met: r!.met?.ratio ?? null,
      },
      {
        figure: 'ingest against Pandera on Polars (same rules)',
        value: s(r!.seconds),
        baseline: r!.pandera_polars?.seconds
          ? `Pandera-Polars ${s(r!.pandera_polars.seconds)} (${r!.pandera_polars.ratio}x)`
          : 'peer unavailable',
        target: '<= 1.0x Pandera-Polars',
        met: r!.met?.pandera_ratio ?? null,
      },
      {
        figure: 'ingest peak RSS',
        value: s(r!.peak_rss_mb, 'MB'),
        baseline: `DuckDB ${s(r!.baseline_peak_rss_mb, 'MB')}`,
        target: '<= 1024 MB',
        met: r!.met?.peak_rss ?? null,
      },
    ],
  },
  {
    name: 'cluster',
    script: 'bench:cluster',
    results: ['cluster'],
    timeoutS: 300,
    figures: ([r]) => [
      {
        figure: `cluster ${r!.suspect_rows.toLocaleString('en')} suspect rows, ${r!.injected_patterns} patterns`,
        value: `${r!.clusters} clusters, purity ${r!.purity}, ${s(r!.seconds)}`,
        baseline: `${r!.exact_groups} exact groups`,
        target: `<= ${r!.targets.calls_max} calls, purity 1, <= ${r!.targets.seconds_max} s`,
        met: r!.calls <= r!.targets.calls_max && r!.purity === 1 && r!.seconds <= r!.targets.seconds_max,
      },
    ],
  },
  {
    name: 'apply',
    script: 'bench:apply',
    results: ['apply'],
    timeoutS: 300,
    figures: ([r]) => [
      {
        figure: `sandboxed function over ${r!.values.toLocaleString('en')} values`,
        value: `${r!.values_per_s.toLocaleString('en')} values/s`,
        baseline: `host Array.map ${r!.baseline.values_per_s.toLocaleString('en')}/s (${r!.overhead_ratio}x)`,
        target: `>= ${r!.target_values_per_s.toLocaleString('en')}/s`,
        met: r!.target_met,
      },
    ],
  },
  {
    name: 'accuracy',
    script: 'bench:accuracy',
    results: ['accuracy'],
    timeoutS: 600,
    figures: ([r]) =>
      Object.entries(r!.datasets as Record<string, Json>).map(([table, d]) => {
        // Issue 15's targets: F1 for hospital and flights, precision on every table (none repaired: nothing made worse).
        const f1Target = ({ hospital: 0.9, flights: 0.75 } as Record<string, number>)[table];
        const precisionMet = d.precision === null || (d.precision as number) >= 0.95;
        return {
          figure: `accuracy ${table} (${r!.tier})`,
          value: `F1 ${d.f1}, precision ${d.precision ?? 'n/a (no repairs)'}, ${d.seconds} s`,
          baseline: `${d.wrong_cells} wrong cells`,
          target: `${f1Target ? `F1 >= ${f1Target}, ` : ''}precision >= 0.95`,
          met: precisionMet && (f1Target === undefined || (d.f1 as number) >= f1Target),
        };
      }),
  },
  {
    name: 'reconcile',
    script: 'bench:reconcile',
    results: ['reconcile'],
    timeoutS: 600,
    figures: ([r]) => [
      {
        figure: `reconcile ${r!.rows.toLocaleString('en')} rows, ${r!.broken.pii_emails.toLocaleString('en')} fixed pii cells (local vault)`,
        value: s(r!.seconds),
        baseline: 'before: 8.4 s',
        target: `<= ${r!.target_seconds} s`,
        met: r!.seconds <= r!.target_seconds,
      },
      {
        figure: `the same behind a ${r!.behind_round_trips.store_rtt_ms} ms store round trip`,
        value: s(r!.behind_round_trips.seconds),
        baseline: 'before: 224 s (issue 14: 235 s)',
        target: `<= ${r!.target_seconds} s`,
        met: r!.behind_round_trips.seconds <= r!.target_seconds,
      },
    ],
  },
  {
    name: 'flow',
    script: 'bench:flow',
    results: ['latency', 'e2e'],
    timeoutS: 1200,
    figures: ([latency, e2e]) => [
      ...(latency!.cases as Json[]).map((c) => ({
        figure: `upload to curated, ${c.rows.toLocaleString('en')} rows / ${c.patterns} patterns${c.name.endsWith('cold') ? ' (first file after start)' : ''}`,
        value: s(c.upload_to_curated_s),
        baseline: `fast lane ${s(c.fast_lane_s)}`,
        target: `<= ${c.target_s} s`,
        met: c.met,
      })),
      {
        figure: 'e2e 100,000 rows, 5% in 10 patterns, model 300 ms',
        value: `curated ${s((e2e!.cases as Json[]).find((c) => c.name === 'e2e-100k-5pct')?.upload_to_curated_s)}`,
        baseline: `fast lane ${s((e2e!.cases as Json[]).find((c) => c.name === 'e2e-100k-5pct')?.fast_lane_s)} (${e2e!.targets.curated_over_fast_lane}x)`,
        target: '<= 3x fast lane',
        met: e2e!.targets.curated_over_fast_lane_met,
      },
      {
        figure: 'fast lane at 20% against 0.1% anomalies',
        value: `${e2e!.targets.fast_lane_growth}x`,
        baseline: `0.1%: ${s((e2e!.cases as Json[]).find((c) => c.name === 'fast-lane-0.1pct')?.fast_lane_s)}`,
        target: '<= 1.2x',
        met: e2e!.targets.fast_lane_growth_met,
      },
    ],
  },
  {
    name: 'coldstart',
    script: 'bench:coldstart',
    results: ['coldstart'],
    timeoutS: 600,
    figures: ([r]) =>
      Object.entries((r!.functions ?? {}) as Record<string, Json>).map(([fn, f]) => ({
        figure: `cold start ${fn} (init, fresh process, from its zip)`,
        value: s(f.init_ms.best, 'ms'),
        baseline: `zip ${f.package.zip_mb} MB, ${f.package.unzipped_mb} MB unzipped`,
        target: 'report',
        met: null,
      })),
  },
  {
    name: 'load',
    script: 'bench:load',
    results: ['load'],
    timeoutS: 1500,
    figures: ([r]) => [
      {
        figure: `load ${r!.files} files x ${r!.rows_per_file.toLocaleString('en')} rows at once`,
        value: `${r!.reconciled} reconciled in ${s(r!.wall_seconds_to_last_reconcile)}`,
        baseline: `${r!.rows_per_s.toLocaleString('en')} rows/s`,
        target: 'all promoted <= 600 s, no process > 2 GiB',
        met: r!.targets.all_promoted_within_10_min && r!.targets.no_process_above_2_gib,
      },
    ],
  },
];

const resultPath = (name: string) => join(here, 'results', `${name}.json`);

function table(rows: { bench: string; figure: Figure }[], date: string, machine: string, wall: number | null): string {
  const mark = (met: boolean | null | undefined) => (met === true ? 'met' : met === false ? '**not met**' : '—');
  const lines = [
    `Benchmarks of ${date} on ${machine} (\`npm run bench\`, ${wall === null ? '' : `${Math.round(wall / 60)} min, `}results in \`tests/bench/results/latest.json\`):`,
    '',
    '| figure | ours | beside | target | |',
    '|---|---|---|---|---|',
    ...rows.map(({ figure: f }) => `| ${f.figure} | ${f.value} | ${f.baseline ?? ''} | ${f.target ?? ''} | ${mark(f.met)} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function main(): void {
  // --summarize: no benchmark runs; the table is made again from the result files as they are.
  const summarize = process.argv.includes('--summarize');
  const only = process.argv.slice(2).filter((a) => a !== '--summarize');
  const previous =
    summarize && existsSync(resultPath('latest')) ? (JSON.parse(readFileSync(resultPath('latest'), 'utf8')) as Json) : undefined;
  const started = Date.now();
  const runs: Json = {};
  const rows: { bench: string; figure: Figure }[] = [];
  for (const bench of BENCHES.filter((b) => only.length === 0 || only.includes(b.name))) {
    const t = Date.now();
    process.stderr.write(`[bench] ${bench.name} ...\n`);
    const run = summarize
      ? { status: 0, signal: null }
      : spawnSync('npm', ['run', '--silent', bench.script], {
          cwd: repo,
          stdio: ['ignore', 'ignore', 'inherit'],
          timeout: bench.timeoutS * 1000,
          killSignal: 'SIGKILL',
        });
    const seconds = summarize ? (previous?.runs?.[bench.name]?.seconds ?? null) : Math.round((Date.now() - t) / 100) / 10;
    const ok = run.status === 0 && bench.results.every((r) => existsSync(resultPath(r)));
    const results = ok ? bench.results.map((r) => JSON.parse(readFileSync(resultPath(r), 'utf8')) as Json) : [];
    runs[bench.name] = {
      ok,
      seconds,
      exit: run.status,
      signal: run.signal,
      results: Object.fromEntries(bench.results.map((r, i) => [r, results[i] ?? null])),
    };
    process.stderr.write(`[bench] ${bench.name}: ${ok ? 'done' : 'FAILED'} in ${seconds} s\n`);
    if (!ok) {
      rows.push({ bench: bench.name, figure: { figure: bench.name, value: 'failed', met: false } });
      continue;
    }
    try {
      for (const figure of bench.figures(results)) rows.push({ bench: bench.name, figure });
    } catch (error) {
      rows.push({ bench: bench.name, figure: { figure: bench.name, value: `no summary: ${String(error)}`, met: null } });
    }
  }
  // Summarized: the dates of the result files (a bench run again alone is newer than the rest).
  const dates = [
    ...new Set(Object.values(runs).flatMap((r) => Object.values((r as Json)['results'] as Json).map((x) => (x as Json | null)?.['date']))),
  ]
    .filter((d): d is string => typeof d === 'string')
    .map((d) => d.slice(0, 10))
    .sort();
  const today = new Date().toISOString().slice(0, 10);
  const date =
    !summarize || dates.length === 0
      ? today
      : dates.length === 1
        ? dates[0]!
        : `${dates[0]} to ${dates.at(-1)} (the dates of the result files that carry one)`;
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`;
  const wall = summarize ? (previous?.wall_seconds ?? null) : Math.round((Date.now() - started) / 1000);
  const markdown = table(rows, date, machine, wall);
  writeBenchResult('latest', { date, machine, wall_seconds: wall, figures: rows, runs });
  writeFileSync(join(here, 'results', 'latest.md'), markdown);
  if (only.length === 0) {
    // The README carries the table between its markers.
    const readme = join(repo, 'README.md');
    const text = readFileSync(readme, 'utf8');
    const block = /<!-- bench:latest -->[\s\S]*?<!-- \/bench:latest -->/;
    if (block.test(text)) writeFileSync(readme, text.replace(block, `<!-- bench:latest -->\n${markdown}<!-- /bench:latest -->`));
  }
  process.stderr.write(`[bench] all in ${wall} s\n`);
  if (Object.values(runs).some((r: Json) => !r.ok)) process.exit(1);
}

main();
