import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { failure, UsageError } from '../cli/usage.ts';
import { findStore, type StoreTarget } from '../cli/stack-target.ts';
import { loadRuntimeConfig } from '../lib/config.ts';
import { loadContract, parseContractText, registerContract } from '../lib/contract/registry.ts';
import { batchId, keys, parseRawKey } from '../lib/keys.ts';
import { batchStatus } from '../lib/operators/batch-status.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import type { ObjectStore } from '../lib/store/object-store.ts';
import { S3ObjectStore } from '../lib/store/s3-object-store.ts';
import { streamState, waitingKey } from '../lib/streams/stream-control.ts';
import { sleep } from './process.ts';
import { loadStackConfig, readStackState, stackAlive } from './stack-config.ts';
import { REPO_ROOT, stackDown, stackUp } from './stack.ts';

/**
 * `npm start`: the main job on the local stack. Brings the stack up (or uses the one that is
 * already up, found by its state file, and leaves it up), drops a file into the raw vault as a
 * source system would, waits for the flow (driven by the store's notifications) to write the
 * batch manifest, prints it, then follows the batch through clustering and remediation and
 * prints what became of each error pattern, then the batch's reconciliation (lanes, gates,
 * curated rows, audit root hash), and brings the stack it started down again.
 * A file that ingest refuses (no contract for its stream, ...) or holds (the stream is halted)
 * is reported at once, with the command that gets it through.
 * Usage: npm start [-- FILE [STREAM] [--contract CONTRACT.json]] (default: infra/examples/orders.csv
 * as stream "orders"). KEEP_STACK=1 leaves a stack it started running (`npm run stack:down` stops it).
 */
export const USAGE = 'usage: npm start [-- FILE [STREAM] [--contract CONTRACT.json]]';

/** What `npm start` was asked to do. */
export interface DemoArgs {
  file: string;
  stream: string;
  /** A contract file to register before the upload. */
  contract?: string;
}

/** Parses and checks the command line; anything wrong is a UsageError (exit code 2) saying what. */
export function parseDemoArgs(argv: string[]): DemoArgs {
  const parse = () => parseArgs({ args: argv, options: { contract: { type: 'string' } }, allowPositionals: true, strict: true });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  const [file = join(REPO_ROOT, 'infra/examples/orders.csv'), stream = 'orders', ...extra] = parsed.positionals;
  if (extra.length) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}\n${USAGE}`);
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  if (!statSync(file).isFile()) throw new UsageError(`not a file: ${file}`);
  const contract = parsed.values.contract;
  if (contract !== undefined && !existsSync(contract)) throw new UsageError(`no such contract file: ${contract}`);
  try {
    parseRawKey(rawKey(file, stream));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (the file goes to raw/<STREAM>/<its name>)`);
  }
  return { file, stream, ...(contract !== undefined ? { contract } : {}) };
}

/** The vault key the file is uploaded to. */
export function rawKey(file: string, stream: string): string {
  return `raw/${stream}/${basename(file)}`;
}

const shown = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
};

/** What to do when a stream has no contract: the exact commands. */
export function noContractAdvice(stream: string, file: string): string {
  return (
    `no contract is registered for stream "${stream}" (contracts/${stream}.json in the vault), so ingest refuses its files (unknown-stream).\n` +
    `  Write one (infra/contracts/orders.json shows the form) and run:\n` +
    `    npm start -- ${shown(file)} ${stream} --contract ${stream}.contract.json\n` +
    `  or, on a running stack (\`npm run stack:up\`): npm run vaultmend -- contracts register ${stream}.contract.json`
  );
}

/** The file, once uploaded: where it is, which version, and the batch it makes. */
export interface Upload {
  key: string;
  versionId?: string | undefined;
  stream: string;
  batch: string;
  file: string;
}

/** Why ingest did not write the manifest (a refusal or a hold it recorded), said with what to do; undefined while it has not decided. */
async function ingestVerdict(store: Pick<ObjectStore, 'exists' | 'readText'>, upload: Upload): Promise<string | undefined> {
  const versions = [...new Set([upload.versionId ?? null, null])];
  for (const version of versions) {
    const id = createHash('sha256')
      .update(`${upload.key}\n${version ?? ''}`)
      .digest('hex')
      .slice(0, 32);
    const record = keys.refusedObject(id);
    if (!(await store.exists(record))) continue;
    const refused = JSON.parse(await store.readText(record)) as { reason?: string; detail?: string };
    const head = `ingest refused ${upload.key} (${refused.reason ?? 'refused'}: ${refused.detail ?? 'no detail'}); its record is ${record}`;
    if (refused.reason === 'unknown-stream') return `${head}\n${noContractAdvice(upload.stream, upload.file)}`;
    if (refused.reason === 'ingest-failed') return `${head}\n  Every attempt failed; the serverless-offline log of the stack says why.`;
    return head;
  }
  for (const version of versions) {
    if (!(await store.exists(waitingKey(upload.stream, upload.key, version)))) continue;
    const state = await streamState(store as ObjectStore, upload.stream);
    return (
      `stream ${upload.stream} is halted${state.reason ? ` (${state.reason}${state.batch ? `, batch ${state.batch}` : ''})` : ''}: ${upload.key} waits.\n` +
      `  See why: npm run vaultmend -- stream status ${upload.stream}` +
      (state.batch ? ` (and reports/drift/${upload.stream}/${state.batch}.json for drift)` : '') +
      `\n  Let it through: npm run vaultmend -- stream resume ${upload.stream} [--accept]`
    );
  }
  return undefined;
}

/**
 * Waits for the batch's ingest manifest and returns its text; stops at once, with a message that
 * says what to do, when ingest refused the file or holds it. Fails naming `hint` after `timeoutMs`.
 */
export async function waitForIngest(
  store: Pick<ObjectStore, 'exists' | 'readText'>,
  upload: Upload,
  timeoutMs: number,
  hint: string,
  pollMs = 250,
): Promise<string> {
  const manifest = keys.ingestManifest(upload.batch);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await store.exists(manifest)) return store.readText(manifest);
    const verdict = await ingestVerdict(store, upload);
    if (verdict) throw new Error(verdict);
    if (Date.now() >= deadline) break;
    await sleep(pollMs);
  }
  throw new Error(`no ingest manifest ${manifest} after ${Math.round(timeoutMs / 1000)} s, and no refusal recorded; ${hint}`);
}

/** Reads a key once it exists; fails naming the key and `hint` after `timeoutMs`. */
async function read(store: ObjectStore, key: string, timeoutMs: number, hint: string): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!(await store.exists(key))) {
    if (Date.now() >= deadline) throw new Error(`${key} was not written within ${Math.round(timeoutMs / 1000)} s; ${hint}`);
    await sleep(250);
  }
  return store.readText(key);
}

/** Where the operators' review page is, and its token. */
interface ReviewPage {
  url: string | undefined;
  token: string | undefined;
  /** Whether the stack stays up after the demo (else the page is gone with it). */
  staysUp: boolean;
}

/** After the batch: the clusters waiting for a person, the page that settles them, and the CLI command that does the same. */
async function printReview(store: S3ObjectStore, batch: string, review: ReviewPage): Promise<void> {
  const waiting = (await batchStatus(store, batch)).waiting_for_review.filter((w) => !w.decision);
  if (waiting.length === 0) return;
  console.log(`review: ${waiting.length} cluster(s) wait for a person`);
  for (const w of waiting) {
    const result = JSON.parse(await store.readText(keys.clusterResult(batch, w.cluster))) as { measured: { ambiguous_with?: string } };
    const reading = result.measured.ambiguous_with?.split(' / ')[0];
    if (review.url) console.log(`  page: ${review.url}/batches/${batch}/clusters/${w.cluster}?token=${review.token ?? 'OPERATOR_TOKEN'}`);
    console.log(
      reading
        ? `  cli:  npx vaultmend review ${batch} ${w.cluster}   then   npx vaultmend approve ${batch} ${w.cluster} --candidate ${reading} --as $USER  (${result.measured.ambiguous_with}: choose one)`
        : `  cli:  npx vaultmend review ${batch} ${w.cluster}   then   npx vaultmend approve ${batch} ${w.cluster} --candidate NAME --as $USER`,
    );
  }
  if (!review.staysUp) console.log('  (the stack stops after this demo: `KEEP_STACK=1 npm start` keeps it up to use the page and the CLI)');
}

async function demo(args: DemoArgs, store: S3ObjectStore, s3: S3Client, bucket: string, logDir: string, review: ReviewPage): Promise<void> {
  const { file, stream } = args;
  const hint = `see the logs in ${logDir}`;
  if (args.contract) {
    const contract = parseContractText(readFileSync(args.contract, 'utf8'), args.contract);
    if (contract.stream !== stream)
      throw new UsageError(`${args.contract} is the contract of stream "${contract.stream}", but the file goes to stream "${stream}"`);
    const registered = await registerContract(store, contract, new Date(), args.contract);
    console.log(`contract registered: ${registered.contract.stream} v${registered.contract.version} (${args.contract})`);
  } else if (!(await loadContract(store, stream))) {
    throw new Error(noContractAdvice(stream, file));
  }
  const body = readFileSync(file);
  const key = rawKey(file, stream);
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  console.log(`uploaded s3://${bucket}/${key} (${body.length} bytes)`);

  const batch = batchId(stream, createHash('sha256').update(body).digest('hex'));
  const manifest = await waitForIngest(store, { key, versionId: put.VersionId, stream, batch, file }, 120_000, hint);
  console.log(`s3://${bucket}/${keys.ingestManifest(batch)}:\n${manifest}`);
  if ((JSON.parse(manifest) as { rows?: { suspect?: number } }).rows?.suspect) {
    const clusters = JSON.parse(await read(store, keys.clusterManifest(batch), 120_000, hint)) as {
      clusters: { cluster: string; column: string; rule: string; cells: number }[];
    };
    console.log(`${clusters.clusters.length} error pattern(s); remediation:`);
    for (const c of clusters.clusters) {
      const result = JSON.parse(await read(store, keys.clusterResult(batch, c.cluster), 120_000, hint)) as {
        disposition: string;
        tier: string;
        confidence: number;
        function: { name: string } | null;
        counts: { staged_cells: number; quarantined_cells: number };
        reason: string;
      };
      console.log(
        `  ${c.column}:${c.rule} (${c.cells} cells) -> ${result.disposition} by ${result.tier}${result.function ? ` (${result.function.name})` : ''}, ` +
          `confidence ${result.confidence.toFixed(2)}, staged ${result.counts.staged_cells}, quarantined ${result.counts.quarantined_cells}` +
          (result.function ? '' : `: ${result.reason}`),
      );
    }
  }
  const reconciled = JSON.parse(await read(store, keys.reconcileManifest(batch), 120_000, hint)) as {
    status: string;
    rows: Record<string, number>;
    curated: string | null;
    audit: { key: string; lines: number; root_hash: string } | null;
    gates: { gate: string; passed: boolean }[];
  };
  console.log(
    `reconcile: ${reconciled.status}; rows ${JSON.stringify(reconciled.rows)}; gates ${reconciled.gates.map((g) => `${g.gate} ${g.passed ? 'ok' : 'FAILED'}`).join(', ')}`,
  );
  console.log(
    `  curated: ${reconciled.curated ?? '(not promoted)'}; audit: ${reconciled.audit?.key} (${reconciled.audit?.lines} lines, root ${reconciled.audit?.root_hash})`,
  );
  console.log(`  report: s3://${bucket}/${keys.reportPage(batch)}`);
  await printReview(store, batch, review);
}

/** The streams of the contracts `stack up` registers (infra/contracts/*.json). */
export function exampleStreams(): string[] {
  const dir = join(REPO_ROOT, 'infra/contracts');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => parseContractText(readFileSync(join(dir, f), 'utf8'), `infra/contracts/${f}`).stream);
}

async function main(): Promise<void> {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    console.log(USAGE);
    return;
  }
  const args = parseDemoArgs(process.argv.slice(2));
  const env = process.env;
  const recorded = env['S3_ENDPOINT'] ? undefined : readStackState(env);
  if (recorded && stackAlive(recorded.state)) {
    // A stack is up: use it (the CLI may have registered contracts there) and leave it up.
    target = findStore(env);
    console.log(`using the running stack of ${shown(recorded.file)} (started ${recorded.state.started_at}); it stays up`);
    const config = loadRuntimeConfig(target.env);
    const s3 = makeS3Client(config);
    await demo(args, new S3ObjectStore(s3, config.VAULT_BUCKET), s3, config.VAULT_BUCKET, recorded.state.logDir, {
      url: recorded.state.reviewUrl,
      token: recorded.state.env['OPERATOR_TOKEN'],
      staysUp: true,
    });
    return;
  }
  // A stack started here holds the contracts of infra/contracts/ and nothing else (its local
  // store starts empty), so a stream without one is known before anything starts.
  if (!args.contract && loadStackConfig(env).S3_BACKEND !== 'external' && !exampleStreams().includes(args.stream)) {
    throw new Error(noContractAdvice(args.stream, args.file));
  }
  if (recorded) {
    console.log(`the stack recorded in ${shown(recorded.file)} (started ${recorded.state.started_at}) is no longer running; clearing it`);
    await stackDown(env, () => {});
  }
  const info = await stackUp(env);
  try {
    const settings = { ...info.env, S3_ENDPOINT: info.s3Endpoint } as Parameters<typeof makeS3Client>[0];
    const s3 = makeS3Client(settings);
    await demo(args, new S3ObjectStore(s3, info.bucket), s3, info.bucket, info.logDir, {
      url: info.reviewUrl,
      token: info.env['OPERATOR_TOKEN'],
      staysUp: env['KEEP_STACK'] === '1',
    });
  } finally {
    if (env['KEEP_STACK'] === '1') console.log('KEEP_STACK=1: the stack is still running; `npm run stack:down` stops it');
    else await stackDown(env);
  }
}

let target: StoreTarget | undefined;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    const { message, code } = failure(error, target);
    console.error(message);
    process.exit(code);
  });
}
