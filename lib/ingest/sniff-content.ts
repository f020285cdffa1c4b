import type { Contract } from '../contract/contract.ts';
import { readContentHead } from './content-head.ts';
import { InputRejectedError } from './input-rejected.ts';

/** How much of a text file's (decompressed) content the sniff reads: enough to see its encoding and its first line. */
export const SNIFF_BYTES = 64 << 10;

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Byte-order marks of encodings other than UTF-8, the UTF-32 ones first (FF FE 00 00 begins with the UTF-16 LE mark). */
const FOREIGN_BOMS: Array<[Buffer, 'encoding-utf16' | 'encoding-utf32', string]> = [
  [Buffer.from([0xff, 0xfe, 0x00, 0x00]), 'encoding-utf32', 'UTF-32 LE'],
  [Buffer.from([0x00, 0x00, 0xfe, 0xff]), 'encoding-utf32', 'UTF-32 BE'],
  [Buffer.from([0xff, 0xfe]), 'encoding-utf16', 'UTF-16 LE'],
  [Buffer.from([0xfe, 0xff]), 'encoding-utf16', 'UTF-16 BE'],
];
/** Magic numbers of formats a CSV or JSON Lines file must not be. */
const MAGIC: Array<[Buffer, string]> = [
  [Buffer.from('PAR1'), 'Parquet'],
  [Buffer.from([0x1f, 0x8b]), 'gzip (the key does not say .gz, or it is gzip inside gzip)'],
  [Buffer.from([0x50, 0x4b, 0x03, 0x04]), 'a zip archive (or an Excel workbook)'],
  [Buffer.from([0x50, 0x4b, 0x05, 0x06]), 'an empty zip archive'],
];

/**
 * Phase of ingest, before the header is read and the schema compared: whether the head of a CSV
 * or JSON Lines file is text of the declared format at all. Reads only SNIFF_BYTES of the content
 * (decompressed when gzip). Parquet files are judged by the engine (`parquet-invalid`).
 */
export async function sniffSource(
  path: string,
  format: Contract['format']['type'],
  gzip: boolean,
): Promise<InputRejectedError | undefined> {
  if (format === 'parquet') return undefined;
  const head = await readContentHead(path, gzip, SNIFF_BYTES);
  // A gzip that fails at once is reported by the header read and the count (`not-gzip`).
  if (head.gzipError !== undefined && head.bytes.length === 0) return undefined;
  if (head.ended && head.bytes.length === 0) return new InputRejectedError('empty-file', 'the gzip content is empty');
  return sniffContent(head.bytes, format, head.ended);
}

/**
 * What is wrong with `head` (the first bytes of a text file's content) as CSV or JSON Lines,
 * in order: a foreign byte-order mark, another format's magic number, NUL bytes (UTF-16/32
 * without a mark when they alternate, else binary), then no header line (CSV: a blank first line)
 * or JSON where CSV is declared. A UTF-8 BOM is accepted. `ended`: the head is the whole content.
 */
export function sniffContent(head: Buffer, format: 'csv' | 'jsonl', ended: boolean): InputRejectedError | undefined {
  for (const [mark, reason, name] of FOREIGN_BOMS) {
    if (startsWith(head, mark))
      return new InputRejectedError(reason, `the file starts with a ${name} byte-order mark; files must be UTF-8`);
  }
  const body = startsWith(head, UTF8_BOM) ? head.subarray(UTF8_BOM.length) : head;
  for (const [magic, name] of MAGIC) {
    if (startsWith(body, magic))
      return new InputRejectedError('format-mismatch', `the file looks like ${name}, the contract says ${format}`);
  }
  return nulFault(body) ?? (format === 'csv' ? csvStartFault(body, ended) : jsonlStartFault(body, ended));
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}

/**
 * NUL bytes: ASCII text in UTF-16 has one at every other position (odd positions: little
 * endian), in UTF-32 three of every four; text in UTF-8 has none, so any other NUL is binary.
 */
function nulFault(head: Buffer): InputRejectedError | undefined {
  const first = head.indexOf(0);
  if (first < 0) return undefined;
  const zeros = [0, 0, 0, 0];
  const n = head.length - (head.length % 4);
  for (let i = 0; i < n; i++) if (head[i] === 0) zeros[i % 4]!++;
  const share = zeros.map((z) => (n ? z / (n / 4) : 0));
  const [s0, s1, s2, s3] = share as [number, number, number, number];
  const mostly = (s: number) => s > 0.9;
  if ((mostly(s1) && mostly(s2) && mostly(s3) && s0 < 0.1) || (mostly(s0) && mostly(s1) && mostly(s2) && s3 < 0.1))
    return new InputRejectedError('encoding-utf32', 'the text looks like UTF-32 without a byte-order mark; files must be UTF-8');
  const even = (s0 + s2) / 2;
  const odd = (s1 + s3) / 2;
  if ((odd > 0.5 && even < 0.05) || (even > 0.5 && odd < 0.05)) {
    const order = odd > even ? 'LE' : 'BE';
    return new InputRejectedError('encoding-utf16', `the text looks like UTF-16 ${order} without a byte-order mark; files must be UTF-8`);
  }
  return new InputRejectedError('binary-content', `a NUL byte at byte ${first}: the file is binary, not text`);
}

/** The first line of `text` (up to its first line end). */
function firstLine(text: string): string {
  const end = text.search(/[\r\n]/);
  return end < 0 ? text : text.slice(0, end);
}

/** A CSV file starts with its header: a blank first line (or only whitespace) has none; JSON is not CSV. */
function csvStartFault(head: Buffer, ended: boolean): InputRejectedError | undefined {
  const text = head.toString('utf8');
  const line = firstLine(text).trim();
  if (line === '') {
    const detail = text.trim() === '' && ended ? 'the file holds only blank lines or whitespace' : 'the first line is blank';
    return new InputRejectedError('no-header', `${detail}: a CSV file must start with its header line`);
  }
  return looksLikeJson(line) ? new InputRejectedError('format-mismatch', 'the file looks like JSON, the contract says csv') : undefined;
}

/** The first line is a JSON object or array (or opens one): a CSV header never is. */
function looksLikeJson(line: string): boolean {
  if (line === '{' || line === '[') return true;
  if (!line.startsWith('{') && !line.startsWith('[')) return false;
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

/** A JSON Lines file of blank lines only holds no record (blank lines elsewhere are allowed). */
function jsonlStartFault(head: Buffer, ended: boolean): InputRejectedError | undefined {
  return ended && head.toString('utf8').trim() === '' ? new InputRejectedError('no-rows', 'the file holds only blank lines') : undefined;
}
