import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/** The first bytes of a file's content (decompressed when it is gzip), read without the rest. */
export interface ContentHead {
  bytes: Buffer;
  /** True when the content ended within `bytes` (the whole content was seen). */
  ended: boolean;
  /** For gzip: why decompression stopped before `limit` bytes (corrupt or truncated stream). */
  gzipError?: string;
}

/**
 * Up to `limit` bytes of the content of the local file at `path`, decompressed when `gzip`:
 * a stream that stops once it has them, so a huge (or bomb) file costs only its head.
 */
export async function readContentHead(path: string, gzip: boolean, limit: number): Promise<ContentHead> {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = true;
  let gzipError: string | undefined;
  const file = createReadStream(path, { highWaterMark: Math.min(limit, 1 << 20) });
  const source = gzip ? file.pipe(createGunzip()) : file;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        ended = false;
        break;
      }
    }
  } catch (error) {
    if (!gzip) throw error;
    gzipError = error instanceof Error ? error.message : String(error);
  } finally {
    file.destroy();
    if (source !== file) source.destroy();
  }
  const bytes = Buffer.concat(chunks).subarray(0, limit);
  return gzipError === undefined ? { bytes, ended } : { bytes, ended: false, gzipError };
}
