import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Engine } from '../../lib/engine/duckdb.ts';
import { IngestManifestSchema, type IngestManifest } from '../../lib/vault/ingest-manifest.ts';
import { keys } from '../../lib/keys.ts';
import { makeS3Client } from '../../lib/store/s3-client.ts';
import { S3ObjectStore } from '../../lib/store/s3-object-store.ts';
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
  return (out.Versions ?? []).filter((v) => v.Key === key).map((v) => ({ versionId: v.VersionId!, eTag: v.ETag! }));
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

export function vaultStore(): S3ObjectStore {
  return new S3ObjectStore(s3(), stack().bucket);
}

/** Alerts the functions posted to the test webhook. */
export function alertsPosted(): Array<Record<string, unknown>> {
  const file = inject('alertsFile');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Downloads a Parquet object and reads it with the engine. */
export async function readParquet<T = Record<string, unknown>>(key: string, sql = 'SELECT * FROM t ORDER BY row_id'): Promise<T[]> {
  const out = await s3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: key }));
  const dir = mkdtempSync(join(tmpdir(), 'vm-test-'));
  const path = join(dir, 'file.parquet');
  writeFileSync(path, await out.Body!.transformToByteArray());
  const engine = await Engine.open({ memoryLimit: '256MB', threads: 1, spillDir: join(dir, 'spill') });
  try {
    await engine.run(`CREATE VIEW t AS SELECT * FROM read_parquet('${path}')`);
    return await engine.rows<T>(sql);
  } finally {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function manifestOf(batch: string): Promise<IngestManifest> {
  return IngestManifestSchema.parse(JSON.parse(await eventually(`manifest of ${batch}`, () => readText(keys.ingestManifest(batch)))));
}
