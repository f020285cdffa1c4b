import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createGunzip, type Gunzip } from 'node:zlib';
import type { ObjectStore } from '../store/object-store.ts';
import { CsvRecordCounter } from './csv-record-counter.ts';

export interface DownloadedObject {
  path: string;
  size: number;
  sha256: string;
  /** The first bytes, for magic-number checks (gzip, Parquet). */
  head: Buffer;
  /** CSV records in the (decompressed) content, header included: a second count to check the engine's. */
  csvRecords: number;
  /** For gzip objects: why the stream does not decompress to its end (corrupt or truncated). */
  gzipError?: string;
}

/**
 * Streams a vault object to a local file (the engine reads local files; no s3:// reader is
 * linked in), hashing and counting records on the way, without holding it in memory. A gzip
 * object is also decompressed on the way, because a truncated gzip can look readable to the
 * engine: only a decompression to the end proves every row is there.
 */
export async function downloadObject(
  store: ObjectStore,
  key: string,
  versionId: string | undefined,
  path: string,
  gzip = false,
): Promise<DownloadedObject> {
  const hash = createHash('sha256');
  const counter = new CsvRecordCounter();
  const out = createWriteStream(path);
  const gunzip: Gunzip | undefined = gzip ? createGunzip() : undefined;
  let gzipError: string | undefined;
  gunzip?.on('data', (chunk: Buffer) => counter.push(chunk));
  // Resolves on the first decompression error: a failed write may never call its callback.
  const failed = new Promise<void>((resolve) =>
    gunzip?.on('error', (error) => {
      gzipError ??= error.message;
      resolve();
    }),
  );
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  try {
    for await (const chunk of await store.read(key, versionId)) {
      hash.update(chunk);
      size += chunk.length;
      if (gunzip) {
        if (!gzipError) await Promise.race([new Promise<void>((resolve) => gunzip.write(chunk, () => resolve())), failed]);
      } else counter.push(chunk);
      if (headBytes < 8) {
        head.push(Buffer.from(chunk.subarray(0, 8 - headBytes)));
        headBytes += Math.min(chunk.length, 8 - headBytes);
      }
      if (!out.write(chunk)) await once(out, 'drain');
    }
    if (gunzip && !gzipError) {
      const ended = new Promise<void>((resolve) => gunzip.once('end', resolve));
      gunzip.end();
      await Promise.race([ended, failed]);
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  const result: DownloadedObject = { path, size, sha256: hash.digest('hex'), head: Buffer.concat(head), csvRecords: counter.total() };
  if (gzipError) result.gzipError = gzipError;
  return result;
}
