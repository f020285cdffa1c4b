import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { CsvRecordCounter } from './csv-record-counter.ts';

/**
 * How far a gzip may expand. Real CSV and JSON Lines compress 5 to 20 times (identical rows
 * about 400 times); a bomb of zeros or of one repeated byte about 1,000 times. Past
 * GZIP_RATIO_FLOOR_BYTES of content, decompression stops as soon as the content is more than
 * `maxRatio` times the compressed bytes read so far, or more than `maxBytes` in all.
 */
export interface GzipLimits {
  maxRatio: number;
  maxBytes: number;
}

/** The defaults of INGEST_GZIP_MAX_RATIO and INGEST_GZIP_MAX_BYTES. */
export const DEFAULT_GZIP_LIMITS: GzipLimits = { maxRatio: 100, maxBytes: 16 * 2 ** 30 };
/** Below this much content no ratio is judged (small files of repeated text expand a lot, harmlessly). */
export const GZIP_RATIO_FLOOR_BYTES = 64 << 20;

export interface RecordCount {
  /** CSV records in the (decompressed) content, header included. */
  records: number;
  /** Bytes of the longest record. */
  longest: number;
  /** Bytes of the (decompressed) content. */
  bytes: number;
  /** Absolute position of the first NUL byte of the content, or -1. */
  firstNul: number;
  /** For gzip files: why the stream does not decompress to its end (corrupt or truncated). */
  gzipError?: string;
  /** For gzip files: the bound decompression stopped at (the count is then of the content up to it). */
  gzipBound?: GzipBound;
}

/** The bound a gzip broke: content bytes decompressed from `compressed` bytes read, and the limit (a ratio or a size). */
export interface GzipBound {
  reason: 'gzip-bomb' | 'gzip-too-large';
  bytes: number;
  compressed: number;
  limit: number;
}

/** Whether `bytes` of content read from `compressed` bytes of gzip pass `limits`, else which bound they break. */
export function gzipBoundBroken(bytes: number, compressed: number, limits: GzipLimits): GzipBound | undefined {
  if (bytes > limits.maxBytes) return { reason: 'gzip-too-large', bytes, compressed, limit: limits.maxBytes };
  if (bytes > GZIP_RATIO_FLOOR_BYTES && bytes > limits.maxRatio * Math.max(compressed, 1))
    return { reason: 'gzip-bomb', bytes, compressed, limit: limits.maxRatio };
  return undefined;
}

/** The bound in words, for the quarantine record (sizes only). */
export function gzipBoundDetail(bound: GzipBound): string {
  if (bound.reason === 'gzip-too-large') return `the content passed ${bound.limit} bytes, the limit; decompression stopped there`;
  const ratio = Math.floor(bound.bytes / Math.max(bound.compressed, 1));
  return `${bound.compressed} compressed bytes expanded to ${bound.bytes} (${ratio}x, over the ${bound.limit}x limit); decompression stopped there`;
}

/**
 * The independent second count that the engine's row count is checked against, read from the
 * local copy. It runs on the event loop while the engine works on its own threads. A gzip file
 * is decompressed to its end here, because a truncated gzip can look readable to the engine, but
 * never past `limits`: a bomb stops at its bound (within a second), not at its end.
 */
export async function countRecords(path: string, gzip: boolean, limits: GzipLimits = DEFAULT_GZIP_LIMITS): Promise<RecordCount> {
  const counter = new CsvRecordCounter();
  let bytes = 0;
  let gzipBound: GzipBound | undefined;
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const source = gzip ? file.pipe(createGunzip()) : file;
  const counted = () => ({ records: counter.total(), longest: counter.longestRecord(), bytes, firstNul: counter.firstNul() });
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      counter.push(chunk);
      bytes += chunk.length;
      gzipBound = gzip ? gzipBoundBroken(bytes, file.bytesRead, limits) : undefined;
      if (gzipBound) break;
    }
  } catch (error) {
    if (!gzip) throw error;
    return { ...counted(), gzipError: error instanceof Error ? error.message : String(error) };
  } finally {
    file.destroy();
    if (source !== file) source.destroy();
  }
  return gzipBound ? { ...counted(), gzipBound } : counted();
}
