import { describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { loadStackConfig } from '../../infra/stack-config.ts';

describe('runtime configuration', () => {
  it('has defaults that suit the local stack', () => {
    const config = loadRuntimeConfig({});
    expect(config.S3_ENDPOINT).toBe('http://127.0.0.1:7480');
    expect(config.VAULT_BUCKET).toBe('vaultmend-vault');
  });

  it('treats an empty variable as unset', () => {
    expect(loadRuntimeConfig({ VAULT_BUCKET: '' }).VAULT_BUCKET).toBe('vaultmend-vault');
  });

  it('names the variable that is wrong', () => {
    expect(() => loadRuntimeConfig({ VAULT_BUCKET: 'Not_A_Bucket' })).toThrow(ConfigError);
    expect(() => loadRuntimeConfig({ VAULT_BUCKET: 'Not_A_Bucket' })).toThrow(/VAULT_BUCKET/);
    expect(() => loadRuntimeConfig({ S3_ENDPOINT: 'ftp://x' })).toThrow(/S3_ENDPOINT/);
    expect(() => loadRuntimeConfig({ LOG_LEVEL: 'LOUD' })).toThrow(/LOG_LEVEL.*LOUD/s);
  });

  it('accepts `aws` as the endpoint of real S3', () => {
    expect(loadRuntimeConfig({ S3_ENDPOINT: 'aws' }).S3_ENDPOINT).toBe('aws');
  });
});

describe('stack configuration', () => {
  it('defaults to Ceph RGW on loopback', () => {
    const config = loadStackConfig({});
    expect(config.S3_BACKEND).toBe('rgw');
    expect(config.S3_ENDPOINT).toBe('http://127.0.0.1:7480');
  });

  it('derives the backend from MINIO_BIN, and uses an external store only when S3_BACKEND=external says so', () => {
    expect(loadStackConfig({ MINIO_BIN: '/opt/minio' }).S3_BACKEND).toBe('minio');
    expect(loadStackConfig({ MINIO_BIN: '/opt/minio', MINIO_PORT: '9100' }).S3_ENDPOINT).toBe('http://127.0.0.1:9100');
    const external = loadStackConfig({ S3_BACKEND: 'external', S3_ENDPOINT: 'http://10.0.0.5:9000' });
    expect(external.S3_BACKEND).toBe('external');
    expect(external.S3_ENDPOINT).toBe('http://10.0.0.5:9000');
  });

  it('refuses S3_ENDPOINT alone instead of silently switching to that store, and says what to run', () => {
    expect(() => loadStackConfig({ S3_ENDPOINT: 'http://10.0.0.5:9000' })).toThrow(ConfigError);
    expect(() => loadStackConfig({ S3_ENDPOINT: 'http://10.0.0.5:9000' })).toThrow(
      /S3_ENDPOINT is set \(http:\/\/10\.0\.0\.5:9000\) but the stack starts its own S3 server \(rgw\)[\s\S]*S3_BACKEND=external S3_ENDPOINT=http:\/\/10\.0\.0\.5:9000 npm run stack:up[\s\S]*unset S3_ENDPOINT/,
    );
    // Left over from a shell where it named the local server, it means the same thing.
    expect(loadStackConfig({ S3_ENDPOINT: 'http://127.0.0.1:27480', RGW_PORT: '27480' })).toMatchObject({
      S3_BACKEND: 'rgw',
      S3_ENDPOINT: 'http://127.0.0.1:27480',
    });
  });

  it('names the variable a backend is missing', () => {
    expect(() => loadStackConfig({ S3_BACKEND: 'minio' })).toThrow(/MINIO_BIN: required when S3_BACKEND=minio/);
    expect(() => loadStackConfig({ S3_BACKEND: 'external' })).toThrow(/S3_ENDPOINT: required/);
  });

  it('names a malformed port', () => {
    expect(() => loadStackConfig({ RGW_PORT: 'seventy' })).toThrow(/RGW_PORT/);
    expect(() => loadStackConfig({ BRIDGE_PORT: '70000' })).toThrow(/BRIDGE_PORT/);
  });
});

describe('the stack state file', () => {
  const state = (extra: Record<string, unknown> = {}) => ({
    version: 1,
    started_at: '2026-12-01T10:00:00.000Z',
    backend: 'rgw',
    s3Endpoint: 'http://127.0.0.1:27480',
    bucket: 'vaultmend-vault',
    bridgeUrl: 'http://127.0.0.1:28787/events',
    lambdaEndpoint: 'http://127.0.0.1:23002',
    stage: 'local',
    logDir: '/tmp/x/logs',
    ports: { RGW_PORT: 27480 },
    pids: [],
    env: { S3_ENDPOINT: 'http://127.0.0.1:27480' },
    ...extra,
  });

  it('lives in STACK_DIR and is read back; none there means no stack', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readStackState, stackStatePath } = await import('../../infra/stack-config.ts');
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-state-'));
    expect(stackStatePath(dir)).toBe(join(dir, 'stack.json'));
    expect(readStackState({ STACK_DIR: dir })).toBeUndefined();
    writeFileSync(join(dir, 'stack.json'), JSON.stringify(state()));
    expect(readStackState({ STACK_DIR: dir })).toMatchObject({
      file: join(dir, 'stack.json'),
      state: { s3Endpoint: 'http://127.0.0.1:27480', ports: { RGW_PORT: 27480 } },
    });
    writeFileSync(join(dir, 'stack.json'), '{ not json');
    expect(() => readStackState({ STACK_DIR: dir })).toThrow(new RegExp(`${join(dir, 'stack.json')} is not JSON.*stack:down`));
  });

  it('tells a live stack from one whose daemons are gone', async () => {
    const { spawn } = await import('node:child_process');
    const { stackAlive, StackStateSchema } = await import('../../infra/stack-config.ts');
    const child = spawn('timeout', ['30', 'sleep', '30'], { detached: true, stdio: 'ignore' });
    try {
      expect(stackAlive(StackStateSchema.parse(state({ pids: [{ name: 'sleep', pid: child.pid }] })))).toBe(true);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    // The group's last member (sleep) may take a moment to be reaped after the kill.
    const gone = StackStateSchema.parse(state({ pids: [{ name: 'sleep', pid: child.pid }] }));
    for (let i = 0; i < 100 && stackAlive(gone); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stackAlive(gone)).toBe(false);
    expect(stackAlive(StackStateSchema.parse(state()))).toBe(false);
  });
});

describe('error messages for logs', () => {
  it('drop quoted values and the echoed SQL', async () => {
    const { safeErrorMessage } = await import('../../lib/errors.ts');
    const engine = new Error(
      "Conversion Error: Could not convert string 'Jane Doe 555-0100' to INT32\n\nLINE 3: SELECT CAST(label AS INTEGER) ...",
    );
    expect(safeErrorMessage(engine)).toBe('Error: Conversion Error: Could not convert string <value> to INT32');
    expect(safeErrorMessage('value "x@y.org" bad')).toBe('value <value> bad');
  });
});

describe('the install leaves a fresh clone as it was', () => {
  it('the lockfile lists every optional dependency (other platforms too), so npm never adds them to it', async () => {
    const { readFileSync } = await import('node:fs');
    const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, { optionalDependencies?: Record<string, string> }>;
    };
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        // Node's resolution: nested under the dependent first, then in each folder above it.
        const parts = path === '' ? [] : path.split('/node_modules/').map((p) => p.replace(/^node_modules\//, ''));
        const candidates = parts.map((_, i) => `node_modules/${[...parts.slice(0, parts.length - i), name].join('/node_modules/')}`);
        if (![...candidates, `node_modules/${name}`].some((c) => c in lock.packages)) missing.push(`${name} (of ${path || 'the project'})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('npm knows every key of .npmrc, and allowScripts keeps onnxruntime-node from fetching CUDA', async () => {
    const { readFileSync } = await import('node:fs');
    const { execFile } = await import('node:child_process');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      allowScripts: Record<string, boolean>;
    };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    const stderr = await new Promise<string>((resolve) => {
      execFile(
        'npm',
        ['config', 'get', 'legacy-peer-deps'],
        { timeout: 60_000, killSignal: 'SIGKILL', cwd: new URL('../..', import.meta.url) },
        (_e, _out, err) => resolve(err),
      );
    });
    expect(stderr).not.toMatch(/Unknown (project|user|env|cli) config/);
  }, 60_000);
});
