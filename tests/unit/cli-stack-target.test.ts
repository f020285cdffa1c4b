import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

function vaultmend(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ['S3_ENDPOINT', 'VAULT_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'RGW_PORT'])
    if (!(name in env)) delete base[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--no-node-snapshot', 'cli/vaultmend.ts', ...args],
      { timeout: 60_000, killSignal: 'SIGKILL', env: base },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A stand-in S3 server that knows no objects: enough for `stream status`, and it records what it was asked. */
async function emptyS3(): Promise<{ server: Server; endpoint: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    if (req.method === 'HEAD') {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/xml' })
      .end(
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>',
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function stateFile(dir: string, endpoint: string, pids: Array<{ name: string; pid: number }>): string {
  const file = join(dir, 'stack.json');
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      started_at: '2026-12-01T10:00:00.000Z',
      backend: 'rgw',
      s3Endpoint: endpoint,
      bucket: 'state-bucket',
      bridgeUrl: 'http://127.0.0.1:1/events',
      lambdaEndpoint: 'http://127.0.0.1:1',
      stage: 'local',
      logDir: join(dir, 'logs'),
      ports: { RGW_PORT: Number(new URL(endpoint).port) },
      pids,
      env: {
        S3_ENDPOINT: endpoint,
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: 'state-key',
        S3_SECRET_ACCESS_KEY: 'state-secret-123',
        VAULT_BUCKET: 'state-bucket',
      },
    }),
  );
  return file;
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  while (cleanup.length) cleanup.pop()!();
});

/** A live process group to stand for the stack's daemons. */
function daemon(): number {
  const child = spawn('timeout', ['60', 'sleep', '60'], { detached: true, stdio: 'ignore' });
  cleanup.push(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  return child.pid!;
}

describe('the CLI finds the running stack', () => {
  it('from its state file: endpoint, bucket and credentials, whatever ports it was started with', async () => {
    const s3 = await emptyS3();
    cleanup.push(() => s3.server.close());
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-stack-'));
    stateFile(dir, s3.endpoint, [{ name: 'radosgw', pid: daemon() }]);
    const { code, stdout, stderr } = await vaultmend(['stream', 'status', 'orders', '--json'], { STACK_DIR: dir });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ stream: 'orders', state: 'running', waiting: 0 });
    expect(s3.requests.map((r) => r.url)).toContain('/state-bucket/control/orders/state.json');
    expect(s3.requests[0]!.headers.authorization).toContain('Credential=state-key/');
  }, 60_000);

  it('but S3_ENDPOINT, when given, wins over the state file', async () => {
    const s3 = await emptyS3();
    cleanup.push(() => s3.server.close());
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-stack-'));
    stateFile(dir, `http://127.0.0.1:${await freePort()}`, [{ name: 'radosgw', pid: daemon() }]);
    const { code } = await vaultmend(['stream', 'status', 'orders'], { STACK_DIR: dir, S3_ENDPOINT: s3.endpoint, VAULT_BUCKET: 'mine' });
    expect(code).toBe(0);
    expect(s3.requests.map((r) => r.url)).toContain('/mine/control/orders/state.json');
  }, 60_000);
});

describe('the CLI with no stack to talk to', () => {
  it('says which endpoint it tried, that no stack answers, and what to run', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-nostack-'));
    const { code, stderr } = await vaultmend(['stream', 'status', 'orders'], { STACK_DIR: dir, RGW_PORT: String(port) });
    expect(stderr).toContain(
      `no stack is running: there is no ${join(dir, 'stack.json')}, and no S3 store answers at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(stderr).toContain('npm run stack:up');
    expect(stderr).not.toMatch(/^Error|at .*\.ts:\d+/m);
    expect(code).toBe(1);
  }, 60_000);

  it('tells a stack that died from one that never ran', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-dead-'));
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    stateFile(dir, endpoint, [{ name: 'radosgw', pid: 2 ** 22 + 7 }]);
    const { code, stderr } = await vaultmend(['stream', 'status', 'orders'], { STACK_DIR: dir });
    expect(stderr).toContain(
      `the stack recorded in ${join(dir, 'stack.json')} (started 2026-12-01T10:00:00.000Z) is no longer running: no S3 store answers at ${endpoint}`,
    );
    expect(stderr).toContain('npm run stack:down');
    expect(code).toBe(1);
  }, 60_000);

  it('names S3_ENDPOINT when that is what does not answer', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const { code, stderr } = await vaultmend(['stream', 'status', 'orders'], {
      STACK_DIR: mkdtempSync(join(tmpdir(), 'vaultmend-ep-')),
      S3_ENDPOINT: endpoint,
    });
    expect(stderr).toContain(`no S3 store answers at ${endpoint} (S3_ENDPOINT): ECONNREFUSED`);
    expect(code).toBe(1);
  }, 60_000);
});
