import { S3Client } from '@aws-sdk/client-s3';

export interface S3Settings {
  S3_ENDPOINT: string;
  S3_REGION: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
}

/**
 * One way to build the S3 client for every caller. S3-compatible servers (Ceph RGW Pacific)
 * do not understand the SDK's default flexible checksums, so checksums are sent and checked
 * only where the API requires them.
 */
export function makeS3Client(settings: S3Settings): S3Client {
  if (settings.S3_ENDPOINT === 'aws') return new S3Client({ region: settings.S3_REGION });
  return new S3Client({
    endpoint: settings.S3_ENDPOINT,
    region: settings.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.S3_ACCESS_KEY_ID, secretAccessKey: settings.S3_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}
