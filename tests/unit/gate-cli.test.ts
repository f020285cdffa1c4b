import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** `vaultmend gate`, as an operator runs it: functions on stdin, one JSON verdict per line on stdout. */
async function gate(lines: string[], args: string[] = []): Promise<Record<string, unknown>[]> {
  const child = run(process.execPath, ['--import', 'tsx', '--no-node-snapshot', 'cli/vaultmend.ts', 'gate', ...args], {
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  child.child.stdin?.end(`${lines.join('\n')}\n`);
  const { stdout } = await child;
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('vaultmend gate', () => {
  it('prints one verdict per function', async () => {
    const verdicts = await gate(['x => x.trim()', 'lambda x: x.strip()', '', 'x => process.env']);
    expect(verdicts).toEqual([
      { accepted: true, reason: 'ok' },
      { accepted: false, reason: 'python-lambda', detail: expect.any(String) },
      { accepted: false, reason: 'forbidden-identifier', detail: 'process' },
    ]);
  });

  it('with --apply, runs each accepted function on the value in the sandbox, or names the limit that stopped it', async () => {
    const verdicts = await gate(
      ['x => x.trim().toUpperCase()', 'x => { const f = y => f(y); return f(x); }', 'x => x.nope()', 'x => x.constructor'],
      ['--apply', ' ab '],
    );
    expect(verdicts[0]).toEqual({ accepted: true, reason: 'ok', output: 'AB' });
    expect(verdicts[1]).toMatchObject({ accepted: true, stopped: 'threw', error: 'RangeError' });
    expect(verdicts[2]).toMatchObject({ accepted: false, reason: 'forbidden-call' });
    expect(verdicts[3]).toMatchObject({ accepted: false, reason: 'forbidden-property' });
  });
});
