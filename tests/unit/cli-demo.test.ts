import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDemoArgs, waitForIngest, type Upload } from '../../infra/demo.ts';
import { keys } from '../../lib/keys.ts';
import { waitingKey } from '../../lib/streams/stream-control.ts';

/** `npm start -- ARGS` without the set-up step: `tsx infra/demo.ts ARGS`, with no stack state around. */
function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, STACK_DIR: mkdtempSync(join(tmpdir(), 'vaultmend-demo-')) };
  delete env['S3_ENDPOINT'];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--no-node-snapshot', 'infra/demo.ts', ...args],
      { timeout: 60_000, killSignal: 'SIGKILL', env },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('npm start with wrong arguments', () => {
  it.each([
    [['/nonexistent/file.csv', 'orders'], /no such file: \/nonexistent\/file\.csv/],
    [['infra/examples/orders.csv', 'Orders!'], /stream name must match/],
    [['infra/examples/orders.csv', 'orders', 'extra'], /unexpected argument\(s\): extra/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['infra/examples/orders.csv', 'orders', '--contract', '/nonexistent.json'], /no such contract file: \/nonexistent\.json/],
  ])(
    '%j exits 2 before any stack starts',
    async (args, why) => {
      const { code, stderr, stdout } = await demo(args);
      expect(stderr).toMatch(why);
      expect(stdout).not.toMatch(/event bridge: starting/);
      expect(code).toBe(2);
    },
    60_000,
  );

  it('takes the example file and stream by default', () => {
    expect(parseDemoArgs([])).toMatchObject({ stream: 'orders', file: expect.stringMatching(/infra\/examples\/orders\.csv$/) });
    expect(parseDemoArgs(['infra/examples/orders.csv', 'shop', '--contract', 'infra/contracts/orders.json'])).toEqual({
      file: 'infra/examples/orders.csv',
      stream: 'shop',
      contract: 'infra/contracts/orders.json',
    });
  });
});

/** An in-memory vault: the keys that exist, and when each appears. */
function fakeStore(objects: Map<string, string>) {
  return { exists: async (key: string) => objects.has(key), readText: async (key: string) => objects.get(key)! };
}

describe('npm start waiting for the ingest manifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaultmend-wait-'));
  const file = join(dir, 'events.csv');
  writeFileSync(file, 'id\n1\n');
  const upload: Upload = { key: 'raw/events/events.csv', versionId: 'v1', stream: 'events', batch: 'events-0123456789abcdef0123', file };
  const refusedKey = (version: string) =>
    keys.refusedObject(createHash('sha256').update(`${upload.key}\n${version}`).digest('hex').slice(0, 32));

  it('notices at once that ingest refused a stream without a contract, and names the command that registers one', async () => {
    const objects = new Map<string, string>();
    setTimeout(
      () => objects.set(refusedKey('v1'), JSON.stringify({ reason: 'unknown-stream', detail: 'no contract registered for stream events' })),
      50,
    );
    const started = Date.now();
    const error = await waitForIngest(fakeStore(objects), upload, 120_000, 'see logs', 10).catch((e: Error) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(String(error)).toContain('ingest refused raw/events/events.csv (unknown-stream: no contract registered for stream events)');
    expect(String(error)).toContain('--contract events.contract.json');
    expect(String(error)).toContain('npm run vaultmend -- contracts register events.contract.json');
  });

  it('finds the refusal recorded without a version id too', async () => {
    const objects = new Map([[refusedKey(''), JSON.stringify({ reason: 'key-unsafe', detail: 'contains a backslash' })]]);
    await expect(waitForIngest(fakeStore(objects), upload, 1_000, 'see logs', 10)).rejects.toThrow(
      /ingest refused .*key-unsafe: contains a backslash/,
    );
  });

  it('says so when the stream is halted and the file waits, with the commands that let it through', async () => {
    const objects = new Map([
      [waitingKey('events', upload.key, 'v1'), '{}'],
      [
        keys.streamState('events'),
        JSON.stringify({
          stream: 'events',
          state: 'halted',
          reason: 'schema-drift',
          batch: 'events-aaaaaaaaaaaaaaaaaaaa',
          since: '2026-12-01T00:00:00Z',
        }),
      ],
    ]);
    await expect(waitForIngest(fakeStore(objects), upload, 1_000, 'see logs', 10)).rejects.toThrow(
      /stream events is halted \(schema-drift, batch events-a+\)[\s\S]*stream status events[\s\S]*stream resume events/,
    );
  });

  it('returns the manifest when ingest writes it, and names the logs when nothing comes', async () => {
    const objects = new Map([[keys.ingestManifest(upload.batch), '{"rows":{}}']]);
    await expect(waitForIngest(fakeStore(objects), upload, 1_000, 'see logs', 10)).resolves.toBe('{"rows":{}}');
    await expect(waitForIngest(fakeStore(new Map()), upload, 50, 'see the logs in /x', 10)).rejects.toThrow(
      /no ingest manifest .* and no refusal recorded; see the logs in \/x/,
    );
  });
});
