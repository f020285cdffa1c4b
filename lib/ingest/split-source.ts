import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { CsvRecordCounter } from './csv-record-counter.ts';

export interface SourcePart {
  path: string;
  /** Data rows in this part (records, the header not counted). */
  rows: number;
}

/**
 * Splits a CSV or JSON Lines file into parts of about `partBytes`, cutting only between
 * records (a quoted line end is not a cut point), each CSV part starting with the header.
 * Streams the file once (decompressing gzip), so memory stays flat whatever its size.
 */
export async function splitSource(
  path: string,
  gzip: boolean,
  format: 'csv' | 'jsonl',
  partBytes: number,
  outDir: string,
): Promise<SourcePart[]> {
  const extension = format === 'csv' ? 'csv' : 'jsonl';
  const counter = new CsvRecordCounter();
  const parts: SourcePart[] = [];
  let header: Buffer | undefined = format === 'jsonl' ? Buffer.alloc(0) : undefined;
  const headerChunks: Buffer[] = [];
  let out: WriteStream | undefined;
  let written = 0;
  let recordsAtCut = 0; // completed records before the current part (the header included for CSV)

  const open = () => {
    out = createWriteStream(join(outDir, `part-${parts.length}.${extension}`));
    written = 0;
  };
  const write = async (bytes: Buffer) => {
    if (bytes.length === 0) return;
    if (!out!.write(bytes)) await once(out!, 'drain');
    written += bytes.length;
  };
  const close = async (rows: number) => {
    const path = out!.path as string;
    out!.end();
    await once(out!, 'close');
    parts.push({ path, rows });
  };

  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const source = gzip ? file.pipe(createGunzip()) : file;
  open();
  let offset = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    // Fed in pieces that end where the part is full, so several cuts can fall in one chunk;
    // past the mark, pieces of at most 64 KiB find the next record end.
    let pos = 0;
    while (pos < chunk.length) {
      const room = partBytes - written > 0 ? partBytes - written : Math.min(partBytes, 1 << 16);
      const piece = chunk.subarray(pos, pos + room);
      // JSON Lines: newlines never occur inside a JSON value, so only line ends matter.
      if (format === 'jsonl') counter.pushLines(piece);
      else counter.push(piece);
      if (header === undefined) {
        headerChunks.push(piece);
        if (counter.completedRecords() >= 1) {
          const all = Buffer.concat(headerChunks);
          let end = counter.firstRecordEnd() + 1;
          if (all[end - 1] === 0x0d && all[end] === 0x0a) end++; // keep CRLF whole
          header = all.subarray(0, end);
        }
      }
      const lastEnd = counter.lastRecordEnd();
      // A CR that ends the piece may be half of a CRLF: wait for the next piece to cut.
      const cutsHalfCrlf = lastEnd - offset + 1 === piece.length && piece[piece.length - 1] === 0x0d;
      if (header !== undefined && written + piece.length >= partBytes && lastEnd >= offset && !cutsHalfCrlf) {
        // Cut after the last complete record of this piece; the rest starts the next part.
        const cut = lastEnd - offset + 1;
        await write(piece.subarray(0, cut));
        const completed = counter.completedRecords();
        const headerRows = parts.length === 0 && format === 'csv' ? 1 : 0;
        await close(completed - recordsAtCut - headerRows);
        recordsAtCut = completed;
        open();
        await write(header);
        await write(piece.subarray(cut));
      } else {
        await write(piece);
      }
      offset += piece.length;
      pos += piece.length;
    }
  }
  const headerRows = parts.length === 0 && format === 'csv' ? 1 : 0;
  await close(counter.total() - recordsAtCut - headerRows);
  // A last part holding only the header (the file ended at a cut) carries no rows.
  const last = parts[parts.length - 1]!;
  if (parts.length > 1 && last.rows === 0) parts.pop();
  return parts;
}
