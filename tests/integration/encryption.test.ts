import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_KMS_KEY_ID } from '../../infra/s3-server/rgw.ts';
import { S3ObjectStore, storeEncryption } from '../../lib/store/s3-object-store.ts';
import { s3, stack } from '../support/vault.ts';

/**
 * Server-side encryption on the real store: with S3_SSE=aws:kms every write path of the vault
 * (put, putFile, putIfAbsent, the replay's CopyObject) leaves an object the store says it holds
 * encrypted under the named key (Ceph RGW 16's SSE-KMS with its testing key backend, set up by
 * the local stack), and reads give the plain bytes back.
 */
const encrypted = () =>
  new S3ObjectStore(s3(), stack().bucket, storeEncryption({ S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: LOCAL_KMS_KEY_ID }));

async function encryptionOf(key: string): Promise<{ sse: string | undefined; keyId: string | undefined }> {
  const head = await s3().send(new HeadObjectCommand({ Bucket: stack().bucket, Key: key }));
  return { sse: head.ServerSideEncryption, keyId: head.SSEKMSKeyId };
}

describe('server-side encryption (SSE-KMS) on Ceph RGW', () => {
  it('encrypts every write path and reads the plain bytes back', async () => {
    const store = encrypted();
    const tag = Math.random().toString(36).slice(2);
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-sse-'));
    writeFileSync(join(dir, 'f.txt'), `file ${tag}`);
    await store.put(`_sse/${tag}/put.txt`, `put ${tag}`);
    await store.putFile(`_sse/${tag}/file.txt`, join(dir, 'f.txt'));
    expect((await store.putIfAbsent(`_sse/${tag}/once.txt`, `once ${tag}`)).created).toBe(true);
    for (const [name, text] of [
      ['put', `put ${tag}`],
      ['file', `file ${tag}`],
      ['once', `once ${tag}`],
    ]) {
      const key = `_sse/${tag}/${name}.txt`;
      expect(await encryptionOf(key), key).toMatchObject({ sse: 'aws:kms', keyId: expect.stringContaining(LOCAL_KMS_KEY_ID) });
      expect(await store.readText(key)).toBe(text);
    }
    await store.replay(`_sse/${tag}/put.txt`);
    expect(await encryptionOf(`_sse/${tag}/put.txt`)).toMatchObject({ sse: 'aws:kms' });
    expect(await store.readText(`_sse/${tag}/put.txt`)).toBe(`put ${tag}`);
  });
});
