import {
  CreateBucketCommand,
  GetObjectLockConfigurationCommand,
  PutBucketVersioningCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';

/**
 * The vault bucket: created with Object Lock (which implies versioning) so that audit objects
 * can be made write-once. Safe to run again on an existing bucket; an existing bucket without
 * Object Lock is an error, because it can never be turned on afterwards on every store.
 */
export async function ensureVaultBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  } catch (error) {
    const name = error instanceof S3ServiceException ? error.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  if (lock.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') {
    throw new Error(`bucket ${bucket} exists without Object Lock; use another VAULT_BUCKET`);
  }
}
