import { VaultmendError } from '../errors.ts';
import type { REJECT_REASONS } from '../vault/ingest-manifest.ts';

export type RejectReason = (typeof REJECT_REASONS)[number];

export class InputRejectedError extends VaultmendError {
  constructor(
    readonly reason: RejectReason,
    /** What went wrong, without row values (they may be PII). */
    readonly detail: string,
  ) {
    super(reason, `${reason}: ${detail}`);
  }
}

/**
 * Maps an engine read error caused by the input to a reason code (the message's quoted source
 * line is dropped: PII). Anything else (out of memory, a full disk) is not the file's fault:
 * undefined, so the caller rethrows it and the platform retries.
 */
export function rejectFromEngineError(error: unknown): InputRejectedError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const line = /on Line: (\d+)|in line (\d+)/i.exec(message);
  const where = line ? ` (line ${line[1] ?? line[2]})` : '';
  const table: Array<[RegExp, RejectReason, string]> = [
    [/Expected Number of Columns/i, 'csv-ragged-row', 'a row has a different number of fields than the header'],
    [/unterminated quote/i, 'csv-unterminated-quote', 'a quoted field is never closed'],
    [/Invalid unicode|not utf-8/i, 'invalid-encoding', 'the file is not valid UTF-8'],
    [/Maximum line size|max_line_size/i, 'line-too-long', 'a line is longer than the limit'],
    [/not a GZIP stream|gzip/i, 'not-gzip', 'the file is named .gz but is not gzip'],
    [/Parquet|magic bytes/i, 'parquet-invalid', 'not a readable Parquet file (empty, truncated or corrupt)'],
    [/Malformed JSON|JSON .*(object|document)|maximum_object_size/i, 'jsonl-invalid', 'a line is not valid JSON'],
  ];
  for (const [pattern, reason, detail] of table) {
    if (pattern.test(message)) return new InputRejectedError(reason, detail + where);
  }
  return undefined;
}
