const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Counts CSV records in a byte stream without holding it: a newline inside double quotes
 * does not end a record, CRLF and LF both do, and blank lines are not records. It jumps from
 * one quote or line end to the next with the native `indexOf`, so plain text is skipped fast.
 * (It is the independent second count that the engine's row count is checked against.)
 */
export class CsvRecordCounter {
  private inQuotes = false;
  private lineHasContent = false;
  private records = 0;
  /** Bytes pushed before the current chunk, where the current record began, and the longest record. */
  private offset = 0;
  private recordStart = 0;
  private longest = 0;
  private firstEnd = -1;
  private lastEnd = -1;

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      this.scan(bytes);
    } finally {
      this.offset += bytes.length;
    }
  }

  private scan(bytes: Buffer): void {
    // Next position of each stop byte, found once and refreshed only when passed (-1: none left).
    const next = { quote: bytes.indexOf(QUOTE), lf: bytes.indexOf(LF), cr: bytes.indexOf(CR) };
    const refresh = (from: number) => {
      if (next.quote >= 0 && next.quote < from) next.quote = bytes.indexOf(QUOTE, from);
      if (next.lf >= 0 && next.lf < from) next.lf = bytes.indexOf(LF, from);
      if (next.cr >= 0 && next.cr < from) next.cr = bytes.indexOf(CR, from);
    };
    let i = 0;
    while (i < bytes.length) {
      refresh(i);
      if (this.inQuotes) {
        if (next.quote < 0) return; // the rest of the chunk is inside the quoted field
        this.inQuotes = false; // an escaped quote ("") re-opens at the next byte
        i = next.quote + 1;
        continue;
      }
      let stop = next.quote;
      if (next.lf >= 0 && (stop < 0 || next.lf < stop)) stop = next.lf;
      if (next.cr >= 0 && (stop < 0 || next.cr < stop)) stop = next.cr;
      if (stop < 0) {
        this.lineHasContent = true; // a non-empty remainder without a stop
        return;
      }
      if (stop > i) this.lineHasContent = true;
      if (bytes[stop] === QUOTE) {
        this.inQuotes = true;
        this.lineHasContent = true;
      } else {
        // LF or CR outside quotes ends a record, if the line had any content.
        if (this.lineHasContent) this.records++;
        this.lineHasContent = false;
        this.longest = Math.max(this.longest, this.offset + stop - this.recordStart);
        this.recordStart = this.offset + stop + 1;
        this.lastEnd = this.offset + stop;
        if (this.firstEnd < 0 && this.records > 0) this.firstEnd = this.lastEnd;
      }
      i = stop + 1;
    }
  }

  /** Records seen, the header included; a last line without a newline counts. */
  total(): number {
    return this.records + (this.lineHasContent ? 1 : 0);
  }

  /**
   * For JSON Lines: records are lines (a newline never occurs inside a JSON value, while a
   * backslash-escaped quote would confuse CSV quoting), with the same counts and positions.
   */
  pushLines(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, from)) {
      if (at > from || this.lineHasContent) this.records++;
      this.lineHasContent = false;
      this.longest = Math.max(this.longest, this.offset + at - this.recordStart);
      this.recordStart = this.offset + at + 1;
      this.lastEnd = this.offset + at;
      if (this.firstEnd < 0 && this.records > 0) this.firstEnd = this.lastEnd;
      from = at + 1;
    }
    if (from < bytes.length) this.lineHasContent = true;
    this.offset += bytes.length;
  }

  /** Records whose end has been seen. */
  completedRecords(): number {
    return this.records;
  }

  /** Absolute position of the line end that closed the first record, or -1. */
  firstRecordEnd(): number {
    return this.firstEnd;
  }

  /** Absolute position of the last line end that closed a record (or a blank line), or -1. */
  lastRecordEnd(): number {
    return this.lastEnd;
  }

  /** Bytes of the longest record (line ends excluded), the unfinished last one included. */
  longestRecord(): number {
    return Math.max(this.longest, this.offset - this.recordStart);
  }

  /** True when the input ended inside a quoted field. */
  unterminatedQuote(): boolean {
    return this.inQuotes;
  }
}
