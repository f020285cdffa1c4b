import { DeleteObjectCommand, GetObjectRetentionCommand, PutObjectCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readText, s3, stack, versionsOf } from '../support/vault.ts';

describe('Object Lock on the real store', () => {
  it('refuses to delete or overwrite a COMPLIANCE-locked version', async () => {
    const bucket = stack().bucket;
    const key = `lock-test/${randomUUID()}.jsonl`;
    const retainUntil = new Date(Date.now() + 24 * 3600 * 1000);
    const put = await s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: 'original\n',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: retainUntil,
      }),
    );
    const locked = put.VersionId!;
    expect(locked).toBeTruthy();

    const retention = await s3().send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: locked }));
    expect(retention.Retention?.Mode).toBe('COMPLIANCE');

    // Deleting the version is refused, even when asking to bypass governance.
    await expect(s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: locked }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    await expect(
      s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: locked, BypassGovernanceRetention: true })),
    ).rejects.toMatchObject({ name: 'AccessDenied' });

    // Shortening a COMPLIANCE retention is refused.
    await expect(
      s3().send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: key,
          VersionId: locked,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 60_000) },
        }),
      ),
    ).rejects.toThrow();

    // A write to the same key makes a new version; the locked one keeps its bytes.
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'tampered\n' }));
    // A plain delete only adds a delete marker on top.
    await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    expect(await readText(key, locked)).toBe('original\n');
    expect((await versionsOf(key)).map((v) => v.versionId)).toContain(locked);
  });

  it('allows deleting a version that is not locked (the refusal above is the lock, not the store)', async () => {
    const bucket = stack().bucket;
    const key = `lock-test/${randomUUID()}-unlocked.txt`;
    const put = await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'free\n' }));
    await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: put.VersionId! }));
    expect(await versionsOf(key)).toHaveLength(0);
  });
});
