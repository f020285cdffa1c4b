import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputRejectedError } from './input-rejected.ts';

/** The header may be long, but not unbounded: a header line past this is refused. */
const MAX_HEADER_BYTES = 1 << 20;
const CANDIDATES = [',', ';', '\t', '|'];

export interface CsvHeader {
  columns: string[];
  delimiter: string;
  /** Byte length of the UTF-8 BOM at the start, 0 or 3. */
  bom: number;
}

/**
 * Reads the header record of a CSV file: BOM stripped, quotes honoured, the delimiter taken
 * from the contract or, when it names none, the candidate that splits the header most.
 * The engine then reads the body with exactly these columns and strict RFC 4180 rules, so a
 * ragged row is an error rather than a silently re-sniffed table.
 */
export async function readCsvHeader(path: string, quote: string, delimiter?: string, gzip = false): Promise<CsvHeader> {
  let text = (await readHead(path, gzip)).toString('utf8');
  const bom = text.startsWith('\ufeff') ? 3 : 0;
  if (bom) text = text.slice(1);
  const line = firstRecord(text, quote);
  if (line === undefined) throw new InputRejectedError('line-too-long', `no end of the header line within ${MAX_HEADER_BYTES} bytes`);
  const chosen = delimiter ?? pickDelimiter(line, quote);
  const columns = splitRecord(line, chosen, quote);
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column))
      throw new InputRejectedError('csv-duplicate-header', `column ${JSON.stringify(column)} appears twice in the header`);
    seen.add(column);
  }
  return { columns, delimiter: chosen, bom };
}

/** Up to MAX_HEADER_BYTES of the file's content, decompressed when it is gzip. */
async function readHead(path: string, gzip: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const file = createReadStream(path);
  const source = gzip ? file.pipe(createGunzip()) : file;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_HEADER_BYTES) break;
    }
  } catch {
    // A stream cut short can still hold a whole header; the engine judges the body.
    if (size === 0) throw new InputRejectedError('not-gzip', 'the gzip stream is corrupt or truncated');
  } finally {
    file.destroy();
  }
  return Buffer.concat(chunks).subarray(0, MAX_HEADER_BYTES);
}

/** The first record's text (without its line end), or undefined if it does not end in `text`. */
function firstRecord(text: string, quote: string): string | undefined {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === quote) inQuotes = !inQuotes;
    else if ((ch === '\n' || ch === '\r') && !inQuotes) return text.slice(0, i);
  }
  // A file that is only a header without a line end is still a header.
  return text.length < MAX_HEADER_BYTES - 4 ? text : undefined;
}

function pickDelimiter(line: string, quote: string): string {
  let best = ',';
  let bestCount = 0;
  for (const candidate of CANDIDATES) {
    const count = splitRecord(line, candidate, quote).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

function splitRecord(line: string, delimiter: string, quote: string): string[] {
  const fields: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (inQuotes) {
      if (ch === quote && line[i + 1] === quote) {
        field += quote;
        i++;
      } else if (ch === quote) inQuotes = false;
      else field += ch;
    } else if (ch === quote) inQuotes = true;
    else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}
