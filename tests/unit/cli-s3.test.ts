import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUpload, s3PutFile } from '../../cli/commands/upload.ts';
import { bufferOut } from '../../cli/io.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId } from '../../lib/keys.ts';
import { makeS3Client } from '../../lib/store/s3-client.ts';
import { S3ObjectStore } from '../../lib/store/s3-object-store.ts';

/**
 * The real CLI (a child process) against a stand-in S3 server that keeps objects in memory:
 * enough S3 (HEAD, GET, PUT, list, multipart uploads) for `contracts`, `upload`, `status` and
 * `report`, so that their JSON output is parsed as an operator's script would, and a large file
 * is seen to go up in parts.
 */
interface FakeS3 {
  server: Server;
  endpoint: string;
  objects: Map<string, Buffer>;
  /** Each request as `METHOD key?query`. */
  requests: string[];
}

const xml = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/xml', ...headers }).end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
};
const etag = (body: Buffer): string => `"${createHash('md5').update(body).digest('hex')}"`;

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The version id of each key's (only) version. */
const versionIds = new Map<string, string>();

/** Answers one request of the fake store (path-style: /<bucket>/<key>). */
async function answer(s3: FakeS3, uploads: Map<string, Map<number, Buffer>>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://s3');
  const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
  const q = url.searchParams;
  s3.requests.push(`${req.method} ${key}${url.search}`);
  const body = await bodyOf(req);
  const stored = s3.objects.get(key);
  if (req.method === 'GET' && key === '' && q.get('list-type') === '2') {
    const keys = [...s3.objects.keys()].filter((k) => k.startsWith(q.get('prefix') ?? '')).sort();
    const contents = keys.map((k) => `<Contents><Key>${k}</Key><Size>${s3.objects.get(k)!.length}</Size></Contents>`).join('');
    return xml(
      res,
      200,
      `<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>${keys.length}</KeyCount>${contents}</ListBucketResult>`,
    );
  }
  // The registry writes contract versions first-writer-wins: a conditional PUT, then a versions listing.
  if (req.method === 'GET' && key === '' && q.has('versions')) {
    const keys = [...s3.objects.keys()].filter((k) => k.startsWith(q.get('prefix') ?? '')).sort();
    const versions = keys
      .map(
        (k) =>
          `<Version><Key>${k}</Key><VersionId>${versionIds.get(k)}</VersionId><IsLatest>true</IsLatest><LastModified>2026-12-01T00:00:00.000Z</LastModified></Version>`,
      )
      .join('');
    return xml(res, 200, `<ListVersionsResult><IsTruncated>false</IsTruncated>${versions}</ListVersionsResult>`);
  }
  if (req.method === 'PUT' && !q.has('uploadId') && req.headers['if-none-match'] === '*' && stored)
    return xml(res, 412, '<Error><Code>PreconditionFailed</Code></Error>');
  if (req.method === 'HEAD')
    return void res.writeHead(stored ? 200 : 404, stored ? { 'content-length': stored.length, etag: etag(stored) } : {}).end();
  if (req.method === 'GET') return stored ? void res.writeHead(200).end(stored) : xml(res, 404, '<Error><Code>NoSuchKey</Code></Error>');
  if (req.method === 'POST' && q.has('uploads')) {
    uploads.set('u-1', new Map());
    return xml(res, 200, `<InitiateMultipartUploadResult><Key>${key}</Key><UploadId>u-1</UploadId></InitiateMultipartUploadResult>`);
  }
  if (req.method === 'PUT' && q.has('uploadId')) {
    uploads.get(q.get('uploadId')!)!.set(Number(q.get('partNumber')), body);
    return void res.writeHead(200, { etag: etag(body) }).end();
  }
  if (req.method === 'POST' && q.has('uploadId')) {
    const parts = uploads.get(q.get('uploadId')!)!;
    s3.objects.set(key, Buffer.concat([...parts.keys()].sort((a, b) => a - b).map((n) => parts.get(n)!)));
    return xml(res, 200, `<CompleteMultipartUploadResult><Key>${key}</Key><ETag>"m-${parts.size}"</ETag></CompleteMultipartUploadResult>`, {
      'x-amz-version-id': 'v-multipart',
    });
  }
  if (req.method === 'PUT') {
    s3.objects.set(key, body);
    versionIds.set(key, `v-${s3.objects.size}`);
    return void res.writeHead(200, { etag: etag(body), 'x-amz-version-id': versionIds.get(key) }).end();
  }
  xml(res, 501, '<Error><Code>NotImplemented</Code></Error>');
}

async function fakeS3(): Promise<FakeS3> {
  const uploads = new Map<string, Map<number, Buffer>>();
  const s3: FakeS3 = { server: createServer(), endpoint: '', objects: new Map(), requests: [] };
  s3.server.on('request', (req, res) => {
    answer(s3, uploads, req, res).catch((error) => xml(res, 500, `<Error><Code>InternalError</Code><Message>${error}</Message></Error>`));
  });
  await new Promise<void>((resolve) => s3.server.listen(0, '127.0.0.1', resolve));
  s3.endpoint = `http://127.0.0.1:${(s3.server.address() as AddressInfo).port}`;
  return s3;
}

let s3: FakeS3;
let dir: string;
beforeAll(async () => {
  s3 = await fakeS3();
  dir = mkdtempSync(join(tmpdir(), 'vaultmend-cli-s3-'));
});
afterAll(() => {
  s3.server.close();
});

/** Runs `vaultmend ARGS` against the fake store; the child is killed by its pid when it outlives its time. */
async function vaultmend(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, STACK_DIR: dir, S3_ENDPOINT: s3.endpoint, VAULT_BUCKET: 'vault' };
  const child = spawn(process.execPath, ['--import', 'tsx', '--no-node-snapshot', 'cli/vaultmend.ts', ...args], { env, stdio: 'pipe' });
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 60_000);
  try {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  }
}

describe('the CLI on a store', () => {
  it('contracts register, show and diff: JSON on stdout, nothing else', async () => {
    const registered = await vaultmend(['contracts', 'register', 'infra/contracts/orders.json', '--json']);
    expect(registered.code).toBe(0);
    const [entry] = JSON.parse(registered.stdout);
    expect(entry).toMatchObject({ file: 'infra/contracts/orders.json', stream: 'orders', version: 1 });
    const shown = await vaultmend(['contracts', 'show', 'orders', '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ contract: { stream: 'orders' }, fingerprint: entry.fingerprint });
    const same = await vaultmend(['contracts', 'diff', 'orders', 'infra/contracts/orders.json', '--json']);
    expect([same.code, JSON.parse(same.stdout).same]).toEqual([0, true]);
    const file = join(dir, 'orders-v2.json');
    writeFileSync(
      file,
      JSON.stringify({ stream: 'orders', version: 2, columns: [{ name: 'order_id', type: 'integer', primary_key: true }] }),
    );
    const changed = await vaultmend(['contracts', 'diff', 'orders', file]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^-\s+column\s+customer \(string, not null, pii\)$/m);
  }, 120_000);

  it('upload: a small file in one PUT, a large one in parts, each with its batch id', async () => {
    const small = await vaultmend(['upload', 'infra/examples/orders.csv', 'orders', '--json']);
    expect(small.stderr).toMatch(/^uploading raw\/orders\/orders\.csv 0\.0 MB done$/m);
    expect(small.code).toBe(0);
    // The fake store numbers versions by its object count: the contract, its registry version, then this upload.
    expect(JSON.parse(small.stdout)).toMatchObject({ key: 'raw/orders/orders.csv', version_id: 'v-3' });
    const bytes = randomBytes(12 * 1024 * 1024);
    const file = join(dir, 'big.csv');
    writeFileSync(file, bytes);
    const big = await vaultmend(['upload', file, 'orders', '--key', 'big/2026.csv']);
    expect(big.code).toBe(0);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(big.stdout).toMatch(new RegExp(`^batch\\s+${batchId('orders', sha)}$`, 'm'));
    expect(big.stdout).toMatch(/^bytes\s+12582912$/m);
    expect(s3.objects.get('raw/orders/big/2026.csv')?.equals(bytes)).toBe(true);
    expect(s3.requests.filter((r) => r.startsWith('PUT raw/orders/big/2026.csv?')).length).toBe(2); // two parts of 8 MiB at most
  }, 120_000);

  it('upload to a stream without a contract exits 1 and says how to register one', async () => {
    const { code, stderr, stdout } = await vaultmend(['upload', 'infra/examples/orders.csv', 'events']);
    expect(stderr).toContain(
      'no contract is registered for stream events (contracts/events.json): register one with `vaultmend contracts register events.contract.json`',
    );
    expect([code, stdout]).toEqual([1, '']);
    expect(s3.objects.has('raw/events/orders.csv')).toBe(false);
  }, 60_000);

  it('status lists every stream; report of a batch not reconciled exits 1', async () => {
    const status = await vaultmend(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual([{ stream: 'orders', state: 'running', reason: null, waiting_files: 0, batches: [] }]);
    const text = await vaultmend(['status']);
    expect(text.stdout).toBe('orders  running  0 files waiting  0 batches\n');
    const report = await vaultmend(['report', 'orders-0123456789abcdef0123', '--json']);
    expect([report.code, report.stdout, report.stderr]).toEqual([
      1,
      '',
      'batch not reconciled yet (vaultmend status orders-0123456789abcdef0123)\n',
    ]);
  }, 120_000);

  it('upload on a terminal: the bar is redrawn as the parts go up', async () => {
    const client = makeS3Client({
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 'secret-key',
    });
    const file = join(dir, 'bigger.csv');
    writeFileSync(file, randomBytes(20_000_000));
    const store = new S3ObjectStore(client, 'vault');
    await registerContract(store, JSON.parse(readFileSync('infra/contracts/orders.json', 'utf8')));
    const out = bufferOut(true);
    expect(await runUpload(store, s3PutFile(client, 'vault'), { file, stream: 'orders' }, out)).toBe(0);
    const bars = out.written.stderr.split('\r').filter((line) => line.startsWith('uploading'));
    // Three parts (8 MiB, 8 MiB, the rest), sent four at a time: a redraw as each one is in.
    const shares = bars.map((bar) => Number(/\] (\d+)% [0-9.]+\/20\.0 MB/.exec(bar)?.[1]));
    expect(shares).toHaveLength(3);
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
    expect(bars.at(-1)).toBe(`uploading raw/orders/bigger.csv [${'#'.repeat(30)}] 100% 20.0/20.0 MB\n`);
  }, 60_000);
});
