import { createHash } from 'node:crypto';
import { batchId, keys, parseRawKey } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { CsvRecordCounter } from './csv-record-counter.ts';
import { serialiseManifest, type IngestManifest } from './manifest.ts';

export interface IngestRequest {
  bucket: string;
  key: string;
  versionId?: string;
}

export type IngestOutcome =
  | { status: 'ingested'; batch: string; manifestKey: string; manifest: IngestManifest }
  | { status: 'already-ingested'; batch: string; manifestKey: string };

/**
 * The first real step of the flow: fingerprint a raw vault object and record it in the
 * batch manifest. The batch id comes from the stream and the bytes, so the same bytes
 * uploaded again find their manifest already there and change nothing.
 */
export async function ingestObject(store: ObjectStore, request: IngestRequest): Promise<IngestOutcome> {
  const { stream } = parseRawKey(request.key);
  const hash = createHash('sha256');
  const counter = new CsvRecordCounter();
  let size = 0;
  for await (const chunk of await store.read(request.key, request.versionId)) {
    hash.update(chunk);
    counter.push(chunk);
    size += chunk.length;
  }
  const sha256 = hash.digest('hex');
  const batch = batchId(stream, sha256);
  const manifestKey = keys.ingestManifest(batch);
  if (await store.exists(manifestKey)) return { status: 'already-ingested', batch, manifestKey };

  const manifest: IngestManifest = {
    schema_version: 1,
    batch,
    stream,
    source: { bucket: request.bucket, key: request.key, version_id: request.versionId ?? null, size, sha256 },
    rows: { source: Math.max(0, counter.total() - 1) },
  };
  await store.put(manifestKey, serialiseManifest(manifest), { contentType: 'application/json' });
  return { status: 'ingested', batch, manifestKey, manifest };
}
