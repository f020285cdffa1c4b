import { describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { streamState } from '../../lib/streams/stream-control.ts';
import { alertsPosted, eventually, logLines, readText, upload, vaultStore } from '../support/vault.ts';

/** Attempts recorded for `key`, read from the vault. */
async function attemptsOf(key: string): Promise<number | undefined> {
  const store = vaultStore();
  for (const record of await store.list('control/_attempts/')) {
    const body = JSON.parse(await store.readText(record)) as { key: string; attempts: number };
    if (body.key === key) return body.attempts;
  }
  return undefined;
}

describe('a poison object is not retried forever', () => {
  it('counts failures of the same content and sets the object aside at the limit (3)', async () => {
    // The contract's expression fails at run time on this data (a cast that cannot succeed):
    // not bad input the bouncer knows, but a failure every attempt will repeat.
    await registerContract(vaultStore(), {
      stream: 'poison',
      version: 1,
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'label', type: 'string' },
      ],
      tests: [{ type: 'expression', name: 'label_is_number', expression: 'CAST(label AS INTEGER) > 0' }],
    });
    const key = 'raw/poison/always-fails.csv';
    const body = 'id,label\n1,not a number\n';
    await upload(key, body);
    await eventually('the first failed attempt', async () => ((await attemptsOf(key)) === 1 ? true : undefined));
    // The attempt is recorded before the handler's error is logged (its run's FAIL is written between).
    const failure = await eventually('the failure logged', async () =>
      logLines('serverless-offline').find(
        (l) => l['message'] === 'invocation failed' && (l['keys'] as string[] | undefined)?.includes(key),
      ),
    );
    expect(failure?.['error']).toMatch(/Conversion Error/);
    // The value that failed never reaches the logs (it may be PII).
    expect(JSON.stringify(failure)).not.toContain('not a number');

    // Each delivery of the same bytes (here: replays; on AWS: the platform's own retries) counts.
    await vaultStore().replay(key);
    await eventually('the second attempt', async () => ((await attemptsOf(key)) === 2 ? true : undefined));
    await vaultStore().replay(key);
    const refused = await eventually('the object set aside', async () =>
      logLines('serverless-offline').find((l) => l['message'] === 'object refused' && l['key'] === key),
    );
    expect(refused).toMatchObject({ reason: 'ingest-failed' });
    expect(JSON.parse((await readText(refused['record'] as string))!)).toMatchObject({ reason: 'ingest-failed', key });
    await eventually('the alert', async () => alertsPosted().find((a) => a['reason'] === 'ingest-failed'));
    expect(await attemptsOf(key)).toBe(3);
    expect(await readText(key)).toBe(body);
    // A failure that repeats is catastrophic for the stream: it halts, and the object waits to be replayed.
    expect(await streamState(vaultStore(), 'poison')).toMatchObject({ state: 'halted', reason: 'ingest-failed' });
    expect(await vaultStore().list('control/poison/waiting/')).toHaveLength(1);
  });
});
