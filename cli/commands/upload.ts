import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadContract } from '../../lib/contract/registry.ts';
import { batchId, keys, parseRawKey } from '../../lib/keys.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { streamState } from '../../lib/streams/stream-control.ts';
import { type CliContext, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { emit, fields } from '../output.ts';
import { progressBar } from '../progress.ts';
import { EXIT, existingFile, streamArgument } from '../usage.ts';
import { registerHint } from './contracts.ts';
import { storeEncryption, type StoreEncryption } from '../../lib/store/s3-object-store.ts';

/** Puts a local file at a key, calling `progress` with the bytes sent so far; the version written, if the store has versions. */
export type PutFile = (
  key: string,
  path: string,
  size: number,
  progress: (loaded: number) => void,
) => Promise<{ versionId?: string | undefined }>;

/** Parts of at least 8 MiB (and at most 10,000 of them), four in flight. */
const PART_BYTES = 8 * 1024 * 1024;

/** Uploads through S3 (lib-storage's Upload: one PUT for a small file, a multipart upload for a large one), streamed from the file. */
export function s3PutFile(client: S3Client, bucket: string, encryption: StoreEncryption = {}): PutFile {
  return async (key, path, size, progress) => {
    const handle = await open(path, 'r');
    try {
      const body = handle.createReadStream({ autoClose: false });
      const partSize = Math.max(PART_BYTES, Math.ceil(size / 10_000));
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentLength: size, ...encryption },
        partSize,
        queueSize: 4,
      });
      upload.on('httpUploadProgress', (p) => progress(p.loaded ?? 0));
      const done = await upload.done();
      return { versionId: done.VersionId };
    } finally {
      await handle.close().catch(() => undefined);
    }
  };
}

/** Uploads through any ObjectStore (`putFile`): progress is reported once, at the end. */
export function storePutFile(store: ObjectStore): PutFile {
  return async (key, path, size, progress) => {
    const put = await store.putFile(key, path);
    progress(size);
    return { versionId: put.versionId };
  };
}

/** The SHA-256 of a file, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The raw key an upload goes to, `raw/<stream>/<name or the file's name>`; a missing file or a refused key is a usage error. */
export function uploadKey(file: string, stream: string, name?: string): string {
  existingFile(file);
  const key = `raw/${stream}/${name ?? basename(file)}`;
  parseRawKey(key);
  return key;
}

/** What an upload did: where, how many bytes, and the batch the content becomes. */
export interface Uploaded {
  key: string;
  bytes: number;
  sha256: string;
  batch: string;
  version_id: string | null;
}

/** Says on stderr what the upload will meet: content ingested before (a no-op), or a halted stream (the file waits). */
async function forewarn(store: ObjectStore, stream: string, batch: string, out: Out): Promise<void> {
  if (await store.exists(keys.ingestManifest(batch)))
    out.stderr(`this content was ingested before as ${batch}: the upload changes nothing (vaultmend status ${batch})\n`);
  const state = await streamState(store, stream);
  if (state.state === 'halted')
    out.stderr(`stream ${stream} is halted (${state.reason}): the file will wait (vaultmend stream status ${stream})\n`);
}

/**
 * `upload FILE STREAM [--key NAME]`: puts a local file into the raw vault, which notifies ingest.
 * Exit 2 for a missing file or a refused key, 1 when the stream has no contract (with the command to register one).
 */
export async function runUpload(
  store: ObjectStore,
  put: PutFile,
  a: { file: string; stream: string; name?: string },
  out: Out,
  json?: boolean,
): Promise<number> {
  const key = uploadKey(a.file, a.stream, a.name);
  if (!(await loadContract(store, a.stream))) {
    out.stderr(`${registerHint(a.stream)}, then upload again\n`);
    return EXIT.failed;
  }
  const bytes = statSync(a.file).size;
  const sha256 = await sha256File(a.file);
  const batch = batchId(a.stream, sha256);
  await forewarn(store, a.stream, batch, out);
  const bar = progressBar(out, `uploading ${key}`, bytes);
  const { versionId } = await put(key, a.file, bytes, (loaded) => bar.update(loaded));
  bar.finish();
  const uploaded: Uploaded = { key, bytes, sha256, batch, version_id: versionId ?? null };
  emit(
    out,
    json,
    uploaded,
    () =>
      fields([
        ['key', key],
        ['bytes', bytes],
        ['batch', batch],
        ['version', versionId],
      ]) + `follow it with: vaultmend status ${batch} --watch\n`,
  );
  return EXIT.ok;
}

/** Adds `upload FILE STREAM [--key NAME] [--json]`. */
export function uploadCommand(program: Command, ctx: CliContext): void {
  program
    .command('upload')
    .argument('<file>', 'the local file')
    .argument('<stream>', 'the stream it belongs to (its contract must be registered)', streamArgument)
    .option('--key <name>', 'the name below raw/<stream>/ (default: the file name)')
    .option('--json', 'print the JSON document')
    .description('upload a local file to raw/<stream>/<name> (multipart for large files, a progress bar on a terminal); ingest follows')
    .action(async (file: string, stream: string, o: { key?: string; json?: boolean }) => {
      uploadKey(file, stream, o.key);
      const put = s3PutFile(ctx.s3(), ctx.config().VAULT_BUCKET, storeEncryption(ctx.config()));
      exitWith(await runUpload(ctx.vault(), put, { file, stream, ...(o.key !== undefined ? { name: o.key } : {}) }, processOut, o.json));
    });
}
