import { readContentHead } from './content-head.ts';
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
 * ragged row is an error rather than a silently re-sniffed table. A header that cannot name the
 * columns (a column without a name, a name twice, another delimiter than the declared one) is
 * refused here, before the drift check: drift is a valid header that differs from the contract.
 */
export async function readCsvHeader(path: string, quote: string, delimiter?: string, gzip = false): Promise<CsvHeader> {
  const head = await readContentHead(path, gzip, MAX_HEADER_BYTES);
  let text = head.bytes.toString('utf8');
  const bom = text.startsWith('\ufeff') ? 3 : 0;
  if (bom) text = text.slice(1);
  const line = firstRecord(text, quote, head.ended);
  // A stream cut short can still hold a whole header; the engine judges the body.
  if (line === undefined && head.gzipError !== undefined)
    throw new InputRejectedError('not-gzip', 'the gzip stream is corrupt or truncated');
  if (line === undefined) throw new InputRejectedError('line-too-long', `no end of the header line within ${MAX_HEADER_BYTES} bytes`);
  const mismatch = delimiter === undefined ? undefined : delimiterMismatch(line, delimiter, quote);
  if (mismatch) throw mismatch;
  const chosen = delimiter ?? pickDelimiter(line, quote);
  const columns = splitRecord(line, chosen, quote);
  const invalid = headerProblem(columns);
  if (invalid) throw invalid;
  return { columns, delimiter: chosen, bom };
}

/** A column without a name, or a name twice: the header cannot say which value is which. */
function headerProblem(columns: string[]): InputRejectedError | undefined {
  const unnamed = columns.indexOf('');
  if (unnamed >= 0)
    return new InputRejectedError('csv-header-invalid', `column ${unnamed + 1} of ${columns.length} in the header has no name`);
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column))
      return new InputRejectedError('csv-duplicate-header', `column ${JSON.stringify(column)} appears twice in the header`);
    seen.add(column);
  }
  return undefined;
}

/** The declared delimiter splits nothing while another candidate splits the header: the file uses that one. */
function delimiterMismatch(line: string, declared: string, quote: string): InputRejectedError | undefined {
  if (splitRecord(line, declared, quote).length > 1) return undefined;
  const found = pickDelimiter(line, quote);
  if (found === declared || splitRecord(line, found, quote).length < 2) return undefined;
  return new InputRejectedError(
    'csv-delimiter-mismatch',
    `the header holds no ${JSON.stringify(declared)} (the contract's delimiter) but splits on ${JSON.stringify(found)}`,
  );
}

/** The first record's text (without its line end), or undefined if it does not end in `text` and the content goes on. */
function firstRecord(text: string, quote: string, ended: boolean): string | undefined {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === quote) inQuotes = !inQuotes;
    else if ((ch === '\n' || ch === '\r') && !inQuotes) return text.slice(0, i);
  }
  // A file that is only a header without a line end is still a header.
  return ended ? text : undefined;
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
