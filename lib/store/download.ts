import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { ObjectStore } from './object-store.ts';

export interface DownloadedObject {
  path: string;
  size: number;
  sha256: string;
  /** The first bytes, for magic-number checks (gzip, Parquet). */
  head: Buffer;
}

/**
 * Streams a vault object to a local file (the engine reads local files; no s3:// reader is
 * linked in), hashing it on the way, without holding it in memory.
 */
export async function downloadObject(
  store: ObjectStore,
  key: string,
  versionId: string | undefined,
  path: string,
): Promise<DownloadedObject> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  try {
    for await (const chunk of await store.read(key, versionId)) {
      hash.update(chunk);
      size += chunk.length;
      if (headBytes < 8) {
        head.push(Buffer.from(chunk.subarray(0, 8 - headBytes)));
        headBytes += Math.min(chunk.length, 8 - headBytes);
      }
      if (!out.write(chunk)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { path, size, sha256: hash.digest('hex'), head: Buffer.concat(head) };
}
