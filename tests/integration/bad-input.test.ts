import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId } from '../../lib/keys.ts';
import { parquetBytes } from '../support/files.ts';
import { alertsPosted, eventually, logLines, manifestOf, readText, s3, stack, upload, vaultStore } from '../support/vault.ts';
import { GetObjectCommand } from '@aws-sdk/client-s3';

const sha256 = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const HEADER = 'order_id,customer,email,amount,ordered_at,note';
const unique = () => randomUUID().slice(0, 8);

async function rawBytes(key: string): Promise<Uint8Array> {
  const out = await s3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: key }));
  return out.Body!.transformToByteArray();
}

/** Uploads bad bytes and expects the whole object quarantined with `reason`, the original untouched. */
async function expectQuarantined(stream: string, name: string, bytes: string | Uint8Array, reason: string) {
  const key = `raw/${stream}/${name}`;
  await upload(key, bytes);
  const manifest = await manifestOf(batchId(stream, sha256(bytes)));
  expect(manifest.status).toBe('quarantined');
  expect(manifest.rejected?.reason).toBe(reason);
  expect(manifest.rows).toBeNull();
  expect(JSON.parse((await readText(manifest.outputs.quarantine[0]!))!)).toMatchObject({ reason, key });
  expect(sha256(await rawBytes(key))).toBe(sha256(bytes));
  return manifest;
}

describe('bad input: the object is kept, quarantined whole with a reason code, and counted', () => {
  beforeAll(async () => {
    await registerContract(vaultStore(), {
      stream: 'pq',
      version: 1,
      format: { type: 'parquet' },
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'label', type: 'string' },
      ],
    });
  });

  it.each([
    ['empty file', '', 'empty-file'],
    ['header only', `${HEADER}\n`, 'no-rows'],
    ['a ragged row', `${HEADER}\n1,a,a@x.org,1.00,2026-01-01,${unique()}\n2,b,b@x.org,2.00\n`, 'csv-ragged-row'],
    ['a row with too many fields', `${HEADER}\n1,a,a@x.org,1.00,2026-01-01,${unique()},extra\n`, 'csv-ragged-row'],
    [
      'an unterminated quote',
      `${HEADER}\n1,a,a@x.org,1.00,2026-01-01,"${unique()}\n2,b,b@x.org,2.00,2026-01-02,x\n`,
      'csv-unterminated-quote',
    ],
    [
      'a duplicated header column',
      `order_id,customer,email,amount,amount,note\n1,a,a@x.org,1.00,2.00,${unique()}\n`,
      'csv-duplicate-header',
    ],
  ])('%s', async (label, text, reason) => {
    await expectQuarantined('orders', `bad-${label.replace(/\W+/g, '-')}-${unique()}.csv`, text, reason);
  });

  it('invalid UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from(`${HEADER}\n1,`),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from(`,a@x.org,1.00,2026-01-01,${unique()}\n`),
    ]);
    await expectQuarantined('orders', `latin-${unique()}.csv`, bytes, 'invalid-encoding');
  });

  it('a 100 MB single line', async () => {
    const bytes = Buffer.concat([Buffer.from(`${HEADER}\n1,a,a@x.org,1.00,2026-01-01,`), Buffer.alloc(100 << 20, 0x78), Buffer.from('\n')]);
    await expectQuarantined('orders', `long-line-${unique()}.csv`, bytes, 'line-too-long');
  });

  it('UTF-16, a Parquet file named .csv and a file of blank lines: format errors of the object, not drift', async () => {
    const utf16 = Buffer.from(`\ufeff${HEADER}\n1,a,a@x.org,1.00,2026-01-01,${unique()}\n`, 'utf16le');
    await expectQuarantined('orders', `utf16-${unique()}.csv`, utf16, 'encoding-utf16');
    const parquet = await parquetBytes(`SELECT range::BIGINT AS id, '${unique()}' AS label FROM range(3)`);
    await expectQuarantined('orders', `parquet-${unique()}.csv`, parquet, 'format-mismatch');
    const blank = `\n\n${' '.repeat(1 + Math.floor(Math.random() * 10_000))}\n\n`;
    await expectQuarantined('orders', `blank-${unique()}.csv`, blank, 'no-header');
  });

  it('a gzip bomb (1 GiB from 1 MiB) is refused in seconds, never decompressed to its end', async () => {
    // Concatenated gzip members (RFC 1952) of one 1 MiB block of one letter: one line of 1 GiB.
    const block = gzipSync(Buffer.alloc(1 << 20, 0x78), { level: 9 });
    const bomb = Buffer.concat([gzipSync(`${HEADER}\n${unique()},`), ...Array.from({ length: 1024 }, () => block)]);
    const manifest = await expectQuarantined('orders', `bomb-${unique()}.csv.gz`, bomb, 'gzip-bomb');
    expect(manifest.timings_ms['total']).toBeLessThan(10_000);
  });

  it('gzip that is not gzip', async () => {
    await expectQuarantined('orders', `fake-${unique()}.csv.gz`, `${HEADER}\n1,a,a@x.org,1.00,2026-01-01,x\n`, 'not-gzip');
  });

  it('a truncated gzip', async () => {
    const gz = gzipSync(
      Buffer.from(`${HEADER}\n${Array.from({ length: 2000 }, (_, i) => `${i + 1},a,a@x.org,1.00,2026-01-01,${unique()}`).join('\n')}\n`),
    );
    await expectQuarantined('orders', `cut-${unique()}.csv.gz`, gz.subarray(0, gz.length >> 1), 'not-gzip');
  });

  it('a zero-byte Parquet file and a truncated one', async () => {
    await expectQuarantined('pq', `empty-${unique()}.parquet`, new Uint8Array(), 'empty-file');
    const good = await parquetBytes(`SELECT range::BIGINT AS id, 'label ' || range AS label FROM range(1000)`);
    await expectQuarantined('pq', `cut-${unique()}.parquet`, good.subarray(0, good.length - 100), 'parquet-invalid');
  });

  it('alerts for whole-object quarantines', async () => {
    await expectQuarantined('orders', `alerted-${unique()}.csv`, `${HEADER}\n1,"x\n`, 'csv-unterminated-quote');
    await eventually('a SEV3 alert', async () =>
      alertsPosted().find((a) => a['reason'] === 'csv-unterminated-quote' && a['severity'] === 'SEV3'),
    );
    // ... and counted: an embedded-metric-format point per quarantined object, by reason.
    const metric = await eventually('the metric', async () =>
      logLines('serverless-offline').find((l) => '_aws' in l && l['outcome'] === 'quarantined' && l['reason'] === 'csv-unterminated-quote'),
    );
    expect(metric).toMatchObject({ IngestObjects: 1 });
  });

  it('an unknown stream: kept, recorded, alerted, processed once a contract exists', async () => {
    const stream = `unknown-${unique()}`;
    const key = `raw/${stream}/file.csv`;
    const body = 'id,v\n1,a\n';
    await upload(key, body);
    const refused = await eventually('the refusal', async () =>
      logLines('serverless-offline').find((l) => l['message'] === 'object refused' && l['key'] === key),
    );
    expect(refused).toMatchObject({ reason: 'unknown-stream' });
    expect(JSON.parse((await readText(refused['record'] as string))!)).toMatchObject({ reason: 'unknown-stream', stream, key });
    await eventually('a SEV2 alert', async () => alertsPosted().find((a) => a['reason'] === 'unknown-stream' && a['stream'] === stream));
    expect(await readText(key)).toBe(body);

    await registerContract(vaultStore(), {
      stream,
      version: 1,
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'v', type: 'string' },
      ],
    });
    await vaultStore().replay(key);
    expect((await manifestOf(batchId(stream, sha256(body)))).rows?.clean).toBe(1);
  });
});
