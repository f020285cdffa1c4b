import { createHash } from 'node:crypto';
import { UnsafeKeyError } from './errors.ts';

/**
 * The vault's key layout, in one place. Every step derives the keys it reads and writes from
 * here, so a batch's objects can be found from its id alone.
 */
export const RAW_PREFIX = 'raw/';

/** A stream name: lowercase, digits, `-` and `_`, at most 63 characters. */
const STREAM = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_KEY_LENGTH = 1024;

export interface RawKey {
  stream: string;
  /** The file's path below the stream folder. */
  file: string;
}

/** Parses `raw/<stream>/<file>`, refusing anything that could escape the layout or confuse a log. */
export function parseRawKey(key: string): RawKey {
  if (key.length > MAX_KEY_LENGTH) throw new UnsafeKeyError(key.slice(0, 64), `longer than ${MAX_KEY_LENGTH} characters`);
  if (!key.startsWith(RAW_PREFIX)) throw new UnsafeKeyError(key, `not under ${RAW_PREFIX}`);
  // Control characters (and DEL) make keys that display as something else.
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new UnsafeKeyError(key, 'contains a control character');
  if (key.includes('\\')) throw new UnsafeKeyError(key, 'contains a backslash');
  const parts = key.slice(RAW_PREFIX.length).split('/');
  if (parts.some((p) => p === '..' || p === '.')) throw new UnsafeKeyError(key, 'contains a relative path segment');
  if (parts.some((p) => p === '')) throw new UnsafeKeyError(key, 'contains an empty path segment');
  const [stream, ...rest] = parts;
  if (stream === undefined || !STREAM.test(stream)) {
    throw new UnsafeKeyError(key, 'stream name must match [a-z0-9][a-z0-9_-]{0,62}');
  }
  if (rest.length === 0) throw new UnsafeKeyError(key, 'no file below the stream folder');
  return { stream, file: rest.join('/') };
}

/** A batch is named by its stream and its content, so re-uploading the same bytes names the same batch. */
export function batchId(stream: string, contentSha256: string): string {
  const digest = createHash('sha256').update(`${stream}\n${contentSha256}`).digest('hex');
  return `${stream}-${digest.slice(0, 20)}`;
}

export const keys = {
  ingestManifest: (batch: string) => `manifests/${batch}/ingest.json`,
  contract: (stream: string) => `contracts/${stream}.json`,
  streamState: (stream: string) => `control/${stream}/state.json`,
  waitingPrefix: (stream: string) => `control/${stream}/waiting/`,
  waiting: (stream: string, id: string) => `control/${stream}/waiting/${id}.json`,
  driftReport: (stream: string, batch: string) => `reports/drift/${stream}/${batch}.json`,
  clean: (stream: string, batch: string) => `clean/${stream}/${batch}/part-0.parquet`,
  suspect: (stream: string, batch: string) => `suspect/${stream}/${batch}/part-0.parquet`,
  quarantineRows: (stream: string, batch: string) => `quarantine/${stream}/${batch}/ingest-rows.parquet`,
  quarantineObject: (stream: string, batch: string) => `quarantine/${stream}/${batch}/object.json`,
  /** Failed ingest attempts of one object content (key + ETag). */
  ingestAttempts: (id: string) => `control/_attempts/${id}.json`,
  /** Objects whose key is refused have no trustworthy stream: they are recorded by key hash. */
  refusedObject: (keyHash: string) => `quarantine/_refused/${keyHash}.json`,
};
