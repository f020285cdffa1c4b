import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../lib/config.ts';
import { ConfigError, StoreError } from '../../lib/errors.ts';
import { modelFromConfig } from '../../lib/remediate/model/model-from-config.ts';
import { ModelUnavailableError } from '../../lib/remediate/model/ollama-model.ts';
import { makeS3Client } from '../../lib/store/s3-client.ts';
import { S3ObjectStore, storeEncryption } from '../../lib/store/s3-object-store.ts';
import { DEFAULT_MODEL, queue, startOllamaDouble, type OllamaDouble } from '../support/ollama-double.ts';

/**
 * TLS to the store and to the model server, with a throwaway CA made by openssl for this run
 * (server certificate for 127.0.0.1 and localhost): trusted through S3_CA_FILE / OLLAMA_CA_FILE,
 * refused without, never by turning verification off. And server-side encryption: every write
 * carries the configured SSE headers, reads carry none, and the default sends none.
 */
const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

interface Pki {
  dir: string;
  caFile: string;
  /** Another CA, which signed nothing here: trusting it alone must not let the server's certificate through. */
  otherCaFile: string;
  key: string;
  cert: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run(OPENSSL, args, { cwd: dir, timeout: 20_000 });
}

/** A CA and a server certificate it signed, SAN IP:127.0.0.1 and DNS:localhost (P-256 keys, one day). */
async function makePki(): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'vm-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=vaultmend test CA');
  await openssl(dir, 'req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '1', '-subj', '/CN=vaultmend other CA');
  await openssl(dir, 'req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  const sign = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'server.ext'];
  await openssl(dir, 'x509', '-req', '-in', 'server.csr', ...sign, '-out', 'server.pem');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other.pem'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
}

let pki: Pki;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  pki = await makePki();
}, 60_000);
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// The store: a tiny S3 over https that answers PUT (object or copy), HEAD, GET and the version list.

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

interface FakeS3 {
  endpoint: string;
  seen: Seen[];
}

async function answerS3(req: IncomingMessage, res: ServerResponse, objects: Map<string, Buffer>): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://s3');
  const key = decodeURIComponent(url.pathname.replace(/^\/vault\//, ''));
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const xml = { 'content-type': 'application/xml' };
  if (req.method === 'GET' && url.searchParams.has('versions')) {
    return void res.writeHead(200, xml).end('<ListVersionsResult><Name>vault</Name><IsTruncated>false</IsTruncated></ListVersionsResult>');
  }
  if (req.method === 'PUT' && req.headers['x-amz-copy-source']) {
    const result = '<CopyObjectResult><ETag>"c0"</ETag><LastModified>2026-01-01T00:00:00.000Z</LastModified></CopyObjectResult>';
    return void res.writeHead(200, { ...xml, 'x-amz-version-id': 'v-copy' }).end(result);
  }
  if (req.method === 'PUT') {
    const body = Buffer.concat(parts);
    objects.set(key, body);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    return void res.writeHead(200, { etag, 'x-amz-version-id': `v-${objects.size}` }).end();
  }
  const stored = objects.get(key);
  if (!stored) return void res.writeHead(404, xml).end(req.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code></Error>');
  const head = { 'content-length': String(stored.length), 'last-modified': new Date(0).toUTCString(), etag: '"e"' };
  res.writeHead(200, head).end(req.method === 'HEAD' ? undefined : stored);
}

async function startFakeS3(): Promise<FakeS3> {
  const objects = new Map<string, Buffer>();
  const seen: Seen[] = [];
  const server: Server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    answerS3(req, res, objects).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  });
  return { endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function storeFor(s3: FakeS3, env: NodeJS.ProcessEnv = {}): S3ObjectStore {
  const config = loadRuntimeConfig({ S3_ENDPOINT: s3.endpoint, VAULT_BUCKET: 'vault', ...env });
  return new S3ObjectStore(makeS3Client(config), 'vault', storeEncryption(config));
}

function smallFile(): string {
  const file = join(pki.dir, `part-${Date.now()}-${Math.random()}.bin`);
  writeFileSync(file, Buffer.alloc(4096, 7));
  return file;
}

const SSE_HEADERS = ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id'];
const sseOf = (s: Seen) => SSE_HEADERS.map((h) => s.headers[h] ?? null);

describe('TLS to the store (S3_CA_FILE)', () => {
  it('put, putFile, exists and read work over https with the CA trusted', async () => {
    const s3 = await startFakeS3();
    const store = storeFor(s3, { S3_CA_FILE: pki.caFile });
    expect((await store.put('manifests/b/ingest.json', '{"a":1}')).versionId).toBe('v-1');
    await store.putFile('clean/s/b/part-0.parquet', smallFile());
    expect(await store.exists('manifests/b/ingest.json')).toBe(true);
    expect(await store.exists('manifests/none.json')).toBe(false);
    expect(await store.readText('manifests/b/ingest.json')).toBe('{"a":1}');
    expect(s3.seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'HEAD', 'HEAD', 'GET']);
  });

  it('without the CA every call fails with a certificate error, and no request reaches the server', async () => {
    const s3 = await startFakeS3();
    const store = storeFor(s3);
    const certificate = /certificate/i;
    await expect(store.put('k.json', '{}')).rejects.toThrow(StoreError);
    await expect(store.put('k.json', '{}')).rejects.toThrow(certificate);
    await expect(store.putFile('k.bin', smallFile())).rejects.toThrow(certificate);
    await expect(store.exists('k.json')).rejects.toThrow(certificate);
    await expect(storeFor(s3, { S3_CA_FILE: pki.otherCaFile }).put('k.json', '{}')).rejects.toThrow(certificate);
    expect(s3.seen).toEqual([]);
  });

  it('a missing, unreadable or empty CA file is a configuration error naming S3_CA_FILE', () => {
    const settings = { S3_ENDPOINT: 'https://127.0.0.1:1', S3_REGION: 'us-east-1', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' };
    const missing = join(pki.dir, 'missing.pem');
    expect(() => makeS3Client({ ...settings, S3_CA_FILE: missing })).toThrow(ConfigError);
    expect(() => makeS3Client({ ...settings, S3_CA_FILE: missing })).toThrow(/S3_CA_FILE: cannot read .*ENOENT/);
    expect(() => makeS3Client({ ...settings, S3_CA_FILE: pki.dir })).toThrow(/S3_CA_FILE: cannot read .*EISDIR/);
    const empty = join(pki.dir, 'empty.pem');
    writeFileSync(empty, 'not a certificate\n');
    expect(() => makeS3Client({ ...settings, S3_CA_FILE: empty })).toThrow(/S3_CA_FILE: .* holds no PEM certificate/);
    const broken = join(pki.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => makeS3Client({ ...settings, S3_CA_FILE: broken })).toThrow(/S3_CA_FILE: .* does not parse/);
  });
});

describe('server-side encryption of vault objects (S3_SSE)', () => {
  async function writeEveryWay(store: S3ObjectStore): Promise<void> {
    await store.put('manifests/b/ingest.json', '{}');
    await store.putFile('clean/s/b/part-0.parquet', smallFile());
    await store.putIfAbsent('decisions/b/c.json', '{"d":1}');
    await store.replay('raw/s/file.csv', 'v-1');
    await store.exists('manifests/b/ingest.json');
    await store.readText('manifests/b/ingest.json');
  }

  it('with aws:kms, every PUT (object, file, write-once, copy) carries the algorithm and the key id; reads carry none', async () => {
    const s3 = await startFakeS3();
    await writeEveryWay(storeFor(s3, { S3_CA_FILE: pki.caFile, S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: 'testkey-1' }));
    const puts = s3.seen.filter((s) => s.method === 'PUT');
    expect(puts).toHaveLength(4);
    expect(puts.some((s) => s.headers['x-amz-copy-source'])).toBe(true);
    expect(puts.some((s) => s.headers['if-none-match'] === '*')).toBe(true);
    for (const put of puts) expect(sseOf(put)).toEqual(['aws:kms', 'testkey-1']);
    const reads = s3.seen.filter((s) => s.method !== 'PUT');
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const read of reads) expect(sseOf(read)).toEqual([null, null]);
  });

  it('with AES256, the algorithm alone; unset (the default, or empty), no SSE header at all', async () => {
    const s3 = await startFakeS3();
    await writeEveryWay(storeFor(s3, { S3_CA_FILE: pki.caFile, S3_SSE: 'AES256' }));
    const puts = s3.seen.filter((s) => s.method === 'PUT');
    for (const put of puts) expect(sseOf(put)).toEqual(['AES256', null]);
    s3.seen.length = 0;
    await writeEveryWay(storeFor(s3, { S3_CA_FILE: pki.caFile, S3_SSE: '', S3_SSE_KMS_KEY_ID: '' }));
    expect(s3.seen.length).toBeGreaterThan(4);
    for (const request of s3.seen) expect(sseOf(request)).toEqual([null, null]);
  });

  it('S3_SSE_KMS_KEY_ID is required with aws:kms and refused without it; other values are refused', () => {
    expect(() => loadRuntimeConfig({ S3_SSE: 'aws:kms' })).toThrow(/S3_SSE_KMS_KEY_ID: required when S3_SSE=aws:kms/);
    expect(() => loadRuntimeConfig({ S3_SSE: 'AES256', S3_SSE_KMS_KEY_ID: 'k' })).toThrow(
      /S3_SSE_KMS_KEY_ID: set only with S3_SSE=aws:kms/,
    );
    expect(() => loadRuntimeConfig({ S3_SSE_KMS_KEY_ID: 'k' })).toThrow(ConfigError);
    expect(() => loadRuntimeConfig({ S3_SSE: 'aws:kms:dsse' })).toThrow(/S3_SSE: /);
    expect(storeEncryption(loadRuntimeConfig({}))).toEqual({});
    expect(storeEncryption(loadRuntimeConfig({ S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: 'k1' }))).toEqual({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'k1',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The model server: the Ollama double over https, driven by the real client from the configuration.

async function httpsDouble(): Promise<OllamaDouble> {
  const answer = { kind: 'json' as const, body: { transformation: 'x => x.trim()', confidence_score: 0.9 } };
  const double = await startOllamaDouble({ script: queue(answer), tls: { key: pki.key, cert: pki.cert } });
  closers.push(() => double.close());
  return double;
}

const modelEnv = (host: string, env: NodeJS.ProcessEnv = {}) =>
  loadRuntimeConfig({ OLLAMA_HOST: host, OLLAMA_RETRIES: '2', OLLAMA_TIMEOUT_MS: '5000', ...env });

describe('TLS to the model server (OLLAMA_CA_FILE)', () => {
  it('with the CA, the real client identifies the model and streams a chat answer', async () => {
    const double = await httpsDouble();
    expect(double.url).toMatch(/^https:/);
    const access = modelFromConfig(modelEnv(double.url, { OLLAMA_CA_FILE: pki.caFile }))!;
    expect(await access.identify()).toEqual({ name: DEFAULT_MODEL.name, digest: DEFAULT_MODEL.digest, server_version: '0.6.5' });
    const content = await access.model.ask([{ role: 'user', content: 'fix it' }]);
    expect(JSON.parse(content)).toEqual({ transformation: 'x => x.trim()', confidence_score: 0.9 });
    expect(double.chats).toHaveLength(1);
    expect(double.chats[0]!.stream).toBe(true);
  });

  it('with localhost as the host name too (the certificate names it)', async () => {
    const double = await httpsDouble();
    const access = modelFromConfig(modelEnv(double.url.replace('127.0.0.1', 'localhost'), { OLLAMA_CA_FILE: pki.caFile }))!;
    expect((await access.identify()).digest).toBe(DEFAULT_MODEL.digest);
  });

  it('without the CA, the model is unavailable with a certificate error, tried once (a certificate does not get better)', async () => {
    const double = await httpsDouble();
    const access = modelFromConfig(modelEnv(double.url))!;
    const failure = await access.identify().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    expect((failure as Error).message).toMatch(
      /^ollama version failed after 1 attempt: TypeError: fetch failed <- Error \[\w+\]: .*certificate/,
    );
    const other = modelFromConfig(modelEnv(double.url, { OLLAMA_CA_FILE: pki.otherCaFile }))!;
    await expect(other.identify()).rejects.toThrow(/^ollama version failed after 1 attempt: Error \[\w+\]: .*certificate/);
    expect(double.requests).toEqual([]);
  });

  it('a request that outlives OLLAMA_TIMEOUT_MS is aborted over the CA transport too', async () => {
    const slow = { kind: 'slow' as const, delayMs: 3_000, then: { kind: 'content' as const, content: '{}' } };
    const double = await startOllamaDouble({ script: queue(slow), tls: { key: pki.key, cert: pki.cert } });
    closers.push(() => double.close());
    const access = modelFromConfig(modelEnv(double.url, { OLLAMA_CA_FILE: pki.caFile, OLLAMA_TIMEOUT_MS: '300', OLLAMA_RETRIES: '0' }))!;
    const started = Date.now();
    await expect(access.model.ask([{ role: 'user', content: 'x' }])).rejects.toThrow(ModelUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('the egress guard still refuses a public host first; an http host works as before with a CA file set', async () => {
    expect(() => modelFromConfig(modelEnv('https://api.example.com', { OLLAMA_CA_FILE: pki.caFile }))).toThrow(/OLLAMA_HOST/);
    const plain = await startOllamaDouble({ script: queue({ kind: 'content', content: '{}' }) });
    closers.push(() => plain.close());
    const access = modelFromConfig(modelEnv(plain.url, { OLLAMA_CA_FILE: pki.caFile }))!;
    expect((await access.identify()).digest).toBe(DEFAULT_MODEL.digest);
  });

  it('a missing CA file is a configuration error naming OLLAMA_CA_FILE', () => {
    expect(() => modelFromConfig(modelEnv('https://127.0.0.1:1', { OLLAMA_CA_FILE: join(pki.dir, 'nope.pem') }))).toThrow(
      /OLLAMA_CA_FILE: cannot read/,
    );
  });
});

describe('certificate verification is never turned off', () => {
  it('no source file disables it', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|mjs|js|sh)$/.test(name) && /rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED/.test(readFileSync(path, 'utf8')))
          offenders.push(path);
      }
    };
    for (const dir of ['lib', 'functions', 'cli', 'infra', 'bin']) walk(dir);
    expect(offenders).toEqual([]);
  });
});
