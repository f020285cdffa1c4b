import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  lambdaEnvironment,
  packagedFunctions,
  probe,
  type PackagedFunction,
  type ProbeReport,
} from '../../infra/package/artifact-probe.ts';
import { unzipTo } from '../../infra/package/zip-read.ts';
import { writeBenchResult } from './bench-files.ts';

/**
 * bench:coldstart — what each function costs before its first event, on the artifact Lambda runs:
 * `osls package` (the bundling plugin, infra/package/osls-plugin.ts) packages every function, each
 * zip is unpacked, and each handler module is imported in a fresh Node 24 process with the
 * function's own environment (from the CloudFormation template) and nothing else on the module or
 * library path (infra/package/import-probe.ts; no tsx). Best of COLDSTART_RUNS fresh processes per
 * function, interleaved across functions; then COLDSTART_INVOKE_RUNS fresh processes that also
 * invoke the handler once on a trivial event (an S3 record of another bucket, skipped by every S3
 * function; `GET /review` without a token; the sweep's schedule against an empty S3 listing served
 * here). Each function's package size comes from the same packaging. COLDSTART_COMPARE=label=dir,...
 * measures other source trees too (e.g. before a change), packaged and probed in the same run,
 * interleaved with this one. Results: tests/bench/results/coldstart.json.
 */
const RUNS = Number(process.env['COLDSTART_RUNS'] ?? 5);
const INVOKE_RUNS = Number(process.env['COLDSTART_INVOKE_RUNS'] ?? 3);
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');

interface Tree {
  label: string;
  root: string;
  description: string;
  packageDir: string;
  functions: PackagedFunction[];
  report: { architecture: string; functions: Array<Record<string, unknown> & { name: string }> };
}

/** `osls package` of one source tree into `out`, with this checkout's tools. */
function packageTree(root: string, out: string): void {
  execFileSync(join(repo, 'node_modules/.bin/osls'), ['package', '--stage', 'prod', '--package', out], {
    cwd: root,
    env: { ...process.env, PATH: `${join(repo, 'node_modules/.bin')}:${process.env['PATH']}`, NODE_OPTIONS: '' },
    timeout: 300_000,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Answers every GET with an empty ListObjectsV2 result: enough for the sweep's first invocation (nothing to sweep). */
async function emptyStore(): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>vault</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>',
      );
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** The trivial first event of each function, written to `dir`. */
function trivialEvents(dir: string): Record<string, string> {
  const s3 = JSON.parse(readFileSync(join(repo, 'events/ingest-aws.json'), 'utf8'));
  s3.Records[0].s3.bucket.name = 'another-bucket';
  s3.Records[0].s3.bucket.arn = 'arn:aws:s3:::another-bucket';
  const review = {
    version: '2.0',
    routeKey: 'GET /review',
    rawPath: '/review',
    rawQueryString: '',
    headers: { host: 'localhost' },
    isBase64Encoded: false,
    requestContext: { http: { method: 'GET', path: '/review', sourceIp: '127.0.0.1', protocol: 'HTTP/1.1', userAgent: 'bench' } },
  };
  const schedule = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
  const files: Record<string, string> = {};
  for (const [name, event] of Object.entries({ s3, review, schedule })) {
    files[name] = join(dir, `${name}.json`);
    writeFileSync(files[name], JSON.stringify(event));
  }
  return {
    ingest: files['s3']!,
    cluster: files['s3']!,
    remediate: files['s3']!,
    reconcile: files['s3']!,
    review: files['review']!,
    sweep: files['schedule']!,
  };
}

/**
 * The sandbox's first application in an unpacked artifact: its process started as sandbox.ts starts
 * it (functions/sandbox-process.js, --no-node-snapshot), isolated-vm loaded, an isolate made, one
 * function compiled and applied to one value. What a function's first cluster pays on top of init.
 */
async function sandboxFirstApply(fn: PackagedFunction, root: string): Promise<number> {
  const child = fork(join(root, 'functions/sandbox-process.js'), [], {
    cwd: root,
    env: lambdaEnvironment(fn, root),
    execArgv: ['--no-node-snapshot', '--max-old-space-size=512'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const started = performance.now();
    const answered = new Promise<number>((resolve, reject) => {
      child.on('message', (m: { result?: { stopped: boolean } }) => {
        if (!m.result) return;
        if (m.result.stopped) reject(new Error(`the sandbox stopped the probe function: ${JSON.stringify(m.result)}`));
        else resolve(performance.now() - started);
      });
      child.on('exit', (code) => reject(new Error(`the sandbox process exited (${code}) before it answered`)));
      setTimeout(() => reject(new Error('the sandbox did not answer in 30 s')), 30_000).unref();
    });
    child.send({ id: 1, source: '(value) => value.trim()', chunks: [{ values: JSON.stringify([' 12.50 ']), rows: null }] });
    return await answered;
  } finally {
    child.kill('SIGKILL');
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
const best = (xs: number[]) => round(Math.min(...xs));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return round(s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
};

async function main(): Promise<void> {
  const work = join(tmpdir(), `vaultmend-bench-coldstart-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const server = await emptyStore();
  try {
    const specs = [{ label: 'current', root: repo, description: 'this checkout' }];
    for (const entry of (process.env['COLDSTART_COMPARE'] ?? '').split(',').filter(Boolean)) {
      const [label, root] = entry.split('=');
      if (!label || !root) throw new Error(`COLDSTART_COMPARE: ${entry} is not label=dir`);
      const note = join(root, '.coldstart-variant.txt');
      specs.push({ label, root, description: existsSync(note) ? readFileSync(note, 'utf8').trim() : root });
    }
    const trees: Tree[] = specs.map((spec) => {
      const packageDir = join(work, spec.label, 'package');
      const started = performance.now();
      packageTree(spec.root, packageDir);
      process.stderr.write(`coldstart: ${spec.label} packaged in ${Math.round((performance.now() - started) / 1000)} s\n`);
      const functions = packagedFunctions(packageDir);
      for (const fn of functions) unzipTo(join(packageDir, `${fn.name}.zip`), join(work, spec.label, 'code', fn.name));
      const report = JSON.parse(readFileSync(join(packageDir, 'vaultmend-package.json'), 'utf8'));
      return { ...spec, packageDir, functions, report };
    });
    const [current, ...others] = trees;
    const events = trivialEvents(work);
    const env = { S3_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };

    const imports = new Map<string, ProbeReport[]>();
    const invokes = new Map<string, ProbeReport[]>();
    const add = (map: Map<string, ProbeReport[]>, key: string, r: ProbeReport) => map.set(key, [...(map.get(key) ?? []), r]);
    // Interleaved: every function of every tree once per round, so all see the same machine.
    for (let round = 0; round < RUNS; round++)
      for (const tree of trees)
        for (const fn of tree.functions)
          add(imports, `${tree.label}/${fn.name}`, await probe(fn, join(work, tree.label, 'code', fn.name), { env }));
    for (let round = 0; round < INVOKE_RUNS; round++)
      for (const tree of trees)
        for (const fn of tree.functions)
          add(
            invokes,
            `${tree.label}/${fn.name}`,
            await probe(fn, join(work, tree.label, 'code', fn.name), { env, event: events[fn.name] }),
          );

    // The heavy parts each function loads at first use, in the artifact: each external package imported
    // after the handler (the vector index, the embedding runtime, the engine), and the sandbox's first application.
    const heavy = new Map<string, { imports: Record<string, number[]>; sandbox: number[] }>();
    for (let round = 0; round < INVOKE_RUNS; round++)
      for (const fn of current!.functions) {
        const root = join(work, current!.label, 'code', fn.name);
        const externals = (current!.report.functions.find((f) => f.name === fn.name)?.['externals'] as string[] | undefined) ?? [];
        const entry = heavy.get(fn.name) ?? { imports: {}, sandbox: [] };
        if (externals.length) {
          const r = await probe(fn, root, { env, packages: externals });
          for (const [name, ms] of Object.entries(r.imported_ms ?? {})) entry.imports[name] = [...(entry.imports[name] ?? []), ms];
        }
        if (existsSync(join(root, 'functions/sandbox-process.js'))) entry.sandbox.push(await sandboxFirstApply(fn, root));
        heavy.set(fn.name, entry);
      }

    const summary = (tree: Tree) =>
      Object.fromEntries(
        tree.functions.map((fn) => {
          const i = imports.get(`${tree.label}/${fn.name}`)!;
          const v = invokes.get(`${tree.label}/${fn.name}`) ?? [];
          const pkg = tree.report.functions.find((f) => f.name === fn.name)!;
          const last = v.at(-1) ?? i.at(-1)!;
          return [
            fn.name,
            {
              package: {
                zip_mb: round(Number(pkg['zip_bytes']) / 1e6),
                unzipped_mb: round(Number(pkg['unzipped_bytes']) / 1e6),
                files: pkg['files'],
                bundle_kb: Math.round(Number(pkg['bundle_bytes']) / 1e3),
                externals: pkg['externals'],
                shared_libraries: pkg['shared_libraries'],
              },
              init_ms: { best: best(i.map((r) => r.init_ms)), median: median(i.map((r) => r.init_ms)) },
              import_ms: { best: best(i.map((r) => r.import_ms)), median: median(i.map((r) => r.import_ms)) },
              rss_mb_after_import: round(Math.min(...i.map((r) => r.rss_mb_after_import))),
              loaded_at_import: { packages: i[0]!.packages_after_import, native: i[0]!.native_after_import },
              ...(v.length
                ? {
                    first_invoke_ms: {
                      best: best(v.map((r) => r.first_invoke_ms ?? 0)),
                      median: median(v.map((r) => r.first_invoke_ms ?? 0)),
                    },
                    init_plus_first_invoke_ms: { best: best(v.map((r) => r.init_ms + (r.first_invoke_ms ?? 0))) },
                    rss_mb_after_invoke: round(Math.min(...v.map((r) => r.rss_mb_after_invoke ?? 0))),
                    loaded_after_invoke: { packages: last.packages, native: last.native },
                  }
                : {}),
              ...(tree === current && heavy.has(fn.name)
                ? {
                    at_first_use_ms: {
                      ...Object.fromEntries(Object.entries(heavy.get(fn.name)!.imports).map(([name, ms]) => [`import ${name}`, best(ms)])),
                      ...(heavy.get(fn.name)!.sandbox.length ? { 'sandbox first apply': best(heavy.get(fn.name)!.sandbox) } : {}),
                    },
                  }
                : {}),
            },
          ];
        }),
      );

    const result = {
      what: 'each function artifact of `osls package`, unpacked: its handler imported in a fresh Node process (init), then invoked once on a trivial event',
      runs: RUNS,
      invoke_runs: INVOKE_RUNS,
      trivial_events: {
        s3: 'an ObjectCreated record of another bucket (logged and skipped)',
        review: 'GET /review without a token (401)',
        sweep: 'the schedule event, against an empty S3 listing',
      },
      architecture: current!.report.architecture,
      functions: summary(current!),
      ...(others.length
        ? { compare: Object.fromEntries(others.map((t) => [t.label, { tree: t.description, functions: summary(t) }])) }
        : {}),
      notes: [
        'init_ms: from the process start to the handler module imported (Node start included, as in Lambda Init Duration); import_ms: the import alone',
        'best of the runs (fresh processes, interleaved); the machine is shared, medians show the spread',
        'not measured: Lambda itself (its CPU share at 1024 MB, its disk); first invocations that do real work load more (see loaded_after_invoke vs the heavy parts loaded at first use)',
      ],
      machine: { cpus: cpus().length, node: process.version },
      measured_at: new Date().toISOString(),
    };
    writeBenchResult('coldstart', result);
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
