const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Counts CSV records in a byte stream without holding it: a newline inside double quotes
 * does not end a record, CRLF and LF both do, and blank lines are not records.
 * (The bouncer replaces this with the columnar engine's reader; the manifest needs only a count.)
 */
export class CsvRecordCounter {
  private inQuotes = false;
  private lineHasContent = false;
  private records = 0;

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === QUOTE) {
        // An escaped quote ("") toggles twice, which leaves the state as it was.
        this.inQuotes = !this.inQuotes;
        this.lineHasContent = true;
      } else if ((byte === LF || byte === CR) && !this.inQuotes) {
        if (this.lineHasContent) this.records++;
        this.lineHasContent = false;
      } else {
        this.lineHasContent = true;
      }
    }
  }

  /** Records seen, the header included; a last line without a newline counts. */
  total(): number {
    return this.records + (this.lineHasContent ? 1 : 0);
  }

  /** True when the input ended inside a quoted field. */
  unterminatedQuote(): boolean {
    return this.inQuotes;
  }
}
