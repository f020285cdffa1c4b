import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { CsvRecordCounter } from './csv-record-counter.ts';

export interface RecordCount {
  /** CSV records in the (decompressed) content, header included. */
  records: number;
  /** Bytes of the longest record. */
  longest: number;
  /** Bytes of the (decompressed) content. */
  bytes: number;
  /** For gzip files: why the stream does not decompress to its end (corrupt or truncated). */
  gzipError?: string;
}

/**
 * The independent second count that the engine's row count is checked against, read from the
 * local copy. It runs on the event loop while the engine works on its own threads. A gzip file
 * is decompressed to its end here, because a truncated gzip can look readable to the engine.
 */
export async function countRecords(path: string, gzip: boolean): Promise<RecordCount> {
  const counter = new CsvRecordCounter();
  let bytes = 0;
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const source = gzip ? file.pipe(createGunzip()) : file;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      counter.push(chunk);
      bytes += chunk.length;
    }
  } catch (error) {
    if (!gzip) throw error;
    return {
      records: counter.total(),
      longest: counter.longestRecord(),
      bytes,
      gzipError: error instanceof Error ? error.message : String(error),
    };
  } finally {
    file.destroy();
  }
  return { records: counter.total(), longest: counter.longestRecord(), bytes };
}
