import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Runs `vaultmend ARGS` as an operator does, with no stack anywhere (an empty STACK_DIR, S3_ENDPOINT unset). */
function vaultmend(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env, STACK_DIR: mkdtempSync(join(tmpdir(), 'vaultmend-cli-')), ...env };
  delete base['S3_ENDPOINT'];
  delete base['VAULT_BUCKET'];
  // Who decides comes from --as, VAULTMEND_OPERATOR or USER: none of them unless a test gives one.
  for (const name of ['USER', 'VAULTMEND_OPERATOR']) if (!(name in env)) delete base[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--no-node-snapshot', 'cli/vaultmend.ts', ...args],
      { timeout: 60_000, killSignal: 'SIGKILL', env: base },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('vaultmend with wrong arguments', () => {
  it.each([
    [['nosuch'], /unknown command 'nosuch'/],
    [[], /Usage: vaultmend/],
    [['stream', 'status'], /missing required argument 'stream'/],
    [['stream', 'status', 'Bad/Name'], /"Bad\/Name" is not a stream name/],
    [['stream', 'resume', 'orders', '--bogus'], /unknown option '--bogus'/],
    [['audit', 'verify', 'not-a-batch'], /"not-a-batch" is not a batch id/],
    [['stuck', '--after', 'soon'], /"soon" is not a whole number of seconds/],
    [['erase', 'orders'], /name the record: --pk VALUE\.\.\. or --record HASH\.\.\./],
    [['erase', 'orders', '--record', 'xyz'], /--record "xyz" is not a primary-key hash/],
    [['contracts', 'register', '/nonexistent/orders.json'], /no such file: \/nonexistent\/orders\.json/],
    [['replay'], /missing required argument 'batch-or-key'/],
    [['status', 'nope'], /"nope" is not a batch id/],
    [['registry', 'show', 'orders', 'xyz'], /"xyz" is not a pattern signature/],
    [['registry', 'list'], /missing required argument 'stream'/],
    [['registry', 'remove', 'Bad Stream', '0123456789abcdef01234567'], /"Bad Stream" is not a stream name/],
    [['replay', 'yesterday'], /"yesterday" is neither a batch id/],
    [['replay', 'raw/orders/../x.csv'], /refused object key/],
    [['upload'], /missing required argument 'file'/],
    [['upload', 'package.json'], /missing required argument 'stream'/],
    [['upload', '/nonexistent/orders.csv', 'orders'], /no such file: \/nonexistent\/orders\.csv/],
    [['upload', 'package.json', 'Bad/Stream'], /"Bad\/Stream" is not a stream name/],
    [['upload', 'package.json', 'orders', '--key', '../up.csv'], /refused object key "raw\/orders\/\.\.\/up\.csv"/],
    [['status', '--watch'], /--watch follows one batch/],
    [['status', 'orders-0123456789abcdef0123', '--interval', '3'], /--interval and --timeout go with --watch/],
    [['status', 'orders-0123456789abcdef0123', '--watch', '--interval', 'often'], /"often" is not a positive number of seconds/],
    [['status', 'orders-0123456789abcdef0123', '--watch', '--timeout', '0'], /"0" is not a whole number of seconds/],
    [['report'], /missing required argument 'batch'/],
    [['report', 'orders'], /"orders" is not a batch id/],
    [['contracts', 'show'], /missing required argument 'stream'/],
    [['contracts', 'show', 'Orders!'], /"Orders!" is not a stream name/],
    [['contracts', 'diff', 'orders'], /missing required argument 'file'/],
    [['contracts', 'diff', 'orders', '/nonexistent/c.json'], /no such file: \/nonexistent\/c\.json/],
    [
      ['contracts', 'diff', 'events', 'infra/contracts/orders.json'],
      /infra\/contracts\/orders\.json is the contract of stream orders, not events/,
    ],
    [['review', 'nope'], /"nope" is not a batch id/],
    [['review', 'orders-0123456789abcdef0123', 'c-12'], /"c-12" is not a cluster id/],
    [['approve', 'orders-0123456789abcdef0123'], /missing required argument 'cluster'/],
    [
      ['approve', 'orders-0123456789abcdef0123', 'c-0123456789abcdef'],
      /exactly one of --candidate NAME, --function SOURCE, --function-file FILE/,
    ],
    [['approve', 'orders-0123456789abcdef0123', 'c-0123456789abcdef', '--candidate', 'a', '--function', 'x => x'], /exactly one of/],
    [
      ['approve', 'orders-0123456789abcdef0123', 'c-0123456789abcdef', '--function-file', '/nonexistent/f.js'],
      /no such --function-file: \/nonexistent\/f\.js/,
    ],
    [
      ['approve', 'orders-0123456789abcdef0123', 'c-0123456789abcdef', '--candidate', 'a', '--as', 'Jo Smith'],
      /"Jo Smith" \(--as\) is not an operator name/,
    ],
    [
      ['approve', 'orders-0123456789abcdef0123', 'c-0123456789abcdef', '--candidate', 'date:d-m-y'],
      /who decides\? name yourself with --as NAME/,
    ],
    [['reject', 'orders-0123456789abcdef0123', 'c-0123456789abcdef'], /required option '--reason <text>' not specified/],
    [['reject', 'orders-0123456789abcdef0123', 'c-0123456789abcdef', '--reason', ' '], /--reason needs a text/],
    [
      ['reject', 'orders-0123456789abcdef0123', 'c-0123456789abcdef', '--reason', 'no', '--as', '-x'],
      /"-x" \(--as\) is not an operator name/,
    ],
  ])(
    '%j exits 2 with a message that says what is wrong',
    async (args, why) => {
      const { code, stderr } = await vaultmend(args);
      expect(stderr).toMatch(why);
      expect(code).toBe(2);
    },
    60_000,
  );

  it('--help exits 0', async () => {
    const { code, stdout } = await vaultmend(['--help']);
    expect(stdout).toMatch(/contracts/);
    expect(code).toBe(0);
  }, 60_000);
});

describe('vaultmend contracts register', () => {
  it('names the file that is not JSON, and registers nothing when one file is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-contracts-'));
    writeFileSync(join(dir, 'broken.json'), '{ "stream": "orders", ');
    writeFileSync(
      join(dir, 'nullable-key.json'),
      JSON.stringify({ stream: 'orders', version: 1, columns: [{ name: 'id', type: 'integer', primary_key: true, nullable: true }] }),
    );
    const { code, stderr } = await vaultmend([
      'contracts',
      'register',
      join(dir, 'broken.json'),
      join(dir, 'nullable-key.json'),
      'infra/contracts/orders.json',
    ]);
    expect(stderr).toContain(`${join(dir, 'broken.json')} is not JSON`);
    expect(stderr).toContain(
      `invalid contract ${join(dir, 'nullable-key.json')}:\n  columns.id.nullable: a primary-key column cannot be nullable`,
    );
    expect(stderr).toMatch(/nothing was registered/);
    expect(stderr).not.toMatch(/ECONNREFUSED|no stack/); // refused before any store is asked
    expect(code).toBe(1);
  }, 60_000);
});

describe('npx vaultmend (the bin of package.json)', () => {
  const npx = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, STACK_DIR: mkdtempSync(join(tmpdir(), 'vaultmend-bin-')) };
      delete env['S3_ENDPOINT'];
      execFile('npx', ['--no-install', 'vaultmend', ...args], { timeout: 60_000, killSignal: 'SIGKILL', env }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });

  it('runs the CLI from a clone and passes its exit code through', async () => {
    const help = await npx(['--help']);
    expect(help.stdout).toMatch(/Usage: vaultmend/);
    expect(help.code).toBe(0);
    const wrong = await npx(['status', 'nope']);
    expect(wrong.stderr).toMatch(/"nope" is not a batch id/);
    expect(wrong.code).toBe(2);
  }, 120_000);
});
