import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { makeS3Client } from '../../lib/store/s3-client.ts';
import type { StackInfo } from '../../infra/stack.ts';

/** Test helpers that talk to the real store of the running test stack. */
export function stack(): StackInfo {
  return inject('stack');
}

export function s3(): S3Client {
  const info = stack();
  return makeS3Client({
    S3_ENDPOINT: info.s3Endpoint,
    S3_REGION: info.env['S3_REGION']!,
    S3_ACCESS_KEY_ID: info.env['S3_ACCESS_KEY_ID']!,
    S3_SECRET_ACCESS_KEY: info.env['S3_SECRET_ACCESS_KEY']!,
  });
}

export async function upload(key: string, body: string | Uint8Array): Promise<string | undefined> {
  const out = await s3().send(new PutObjectCommand({ Bucket: stack().bucket, Key: key, Body: body }));
  return out.VersionId;
}

export async function readText(key: string, versionId?: string): Promise<string | undefined> {
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: key, VersionId: versionId }));
    return await out.Body!.transformToString('utf8');
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return undefined;
    throw error;
  }
}

export async function versionsOf(key: string): Promise<Array<{ versionId: string; eTag: string }>> {
  const out = await s3().send(new ListObjectVersionsCommand({ Bucket: stack().bucket, Prefix: key }));
  return (out.Versions ?? [])
    .filter((v) => v.Key === key)
    .map((v) => ({ versionId: v.VersionId!, eTag: v.ETag! }));
}

/** Polls until `probe` returns a value (not undefined), or fails naming `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Structured JSON lines a stack process wrote to its log (serverless-offline, event-bridge). */
export function logLines(process: 'serverless-offline' | 'event-bridge'): Array<Record<string, unknown>> {
  const text = readFileSync(join(stack().logDir, `${process}.log`), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
