import { z } from 'zod';
import { jsonText } from '../store/json-objects.ts';

/**
 * Why a whole object is quarantined instead of processed. The codes are stable: they appear in
 * manifests, quarantine records, alerts and metrics.
 */
export const REJECT_REASONS = [
  'empty-file',
  'no-rows',
  /** A CSV whose first line is blank (or that holds only whitespace): there is no header to check. */
  'no-header',
  'csv-ragged-row',
  'csv-unterminated-quote',
  'csv-duplicate-header',
  /** A header column without a name (empty or only spaces, e.g. a trailing delimiter). */
  'csv-header-invalid',
  /** The declared delimiter is not in the header, another candidate splits it: written with another delimiter. */
  'csv-delimiter-mismatch',
  'csv-row-count-mismatch',
  'invalid-encoding',
  /** Text in UTF-16 or UTF-32 (a byte-order mark, or NUL bytes at alternating positions), not UTF-8. */
  'encoding-utf16',
  'encoding-utf32',
  /** NUL bytes in a text (CSV, JSON Lines) file: binary content. */
  'binary-content',
  /** Another format's bytes (Parquet, gzip, zip, JSON) where the contract declares CSV or JSON Lines. */
  'format-mismatch',
  'line-too-long',
  'not-gzip',
  /** A gzip that expands more than the configured ratio: refused at the bound, never decompressed to its end. */
  'gzip-bomb',
  /** A gzip whose content is larger than the configured maximum. */
  'gzip-too-large',
  'parquet-invalid',
  'jsonl-invalid',
  'jsonl-not-object',
  'unknown-stream',
  /** A file whose columns are a schema an operator rejected (a schema proposal's reject). */
  'schema-rejected',
] as const;

/** The ingest manifest: what arrived, what the bouncer made of it, and how long it took. */
const Counts = z.object({
  source: z.number().int().nonnegative(),
  clean: z.number().int().nonnegative(),
  suspect: z.number().int().nonnegative(),
  quarantined: z.number().int().nonnegative(),
  duplicates_collapsed: z.number().int().nonnegative(),
});

export const IngestManifestSchema = z.object({
  schema_version: z.literal(2),
  batch: z.string(),
  stream: z.string(),
  status: z.enum(['ingested', 'quarantined']),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    version_id: z.string().nullable(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    format: z.enum(['csv', 'jsonl', 'parquet']),
    gzip: z.boolean(),
  }),
  /**
   * The contract the file was checked against: its declared version, fingerprint and registry
   * version (contracts/<stream>/versions/<n>.json), or the schema proposal the stream's evolution
   * policy accepted it under (`proposal`; registry_version is then the version it was proposed over).
   */
  contract: z.object({
    version: z.number().int(),
    fingerprint: z.string(),
    registry_version: z.number().int().positive().optional(),
    proposal: z.string().optional(),
  }),
  /** Fingerprint of the schema the file carried (equal to the contract's when there is no drift). */
  schema_fingerprint: z.string().nullable(),
  rows: Counts.nullable(),
  /** Suspect rows per failing `<column>:<rule>`. */
  reasons: z.record(z.string(), z.number().int()),
  /** Set when the whole object was quarantined. */
  rejected: z.object({ reason: z.enum(REJECT_REASONS), detail: z.string() }).nullable(),
  /** Keys of the objects written, one per part (a fanned-out batch has several). */
  outputs: z.object({ clean: z.array(z.string()), suspect: z.array(z.string()), quarantine: z.array(z.string()) }),
  timings_ms: z.record(z.string(), z.number().nonnegative()),
});

export type IngestManifest = z.infer<typeof IngestManifestSchema>;
export type RowCounts = z.infer<typeof Counts>;

export function serialiseManifest(manifest: IngestManifest): string {
  return jsonText(IngestManifestSchema.parse(manifest));
}

/** source = clean + suspect + quarantined (+ exact duplicates kept once); false means rows went missing. */
export function countsBalance(rows: RowCounts): boolean {
  return rows.source === rows.clean + rows.suspect + rows.quarantined + rows.duplicates_collapsed;
}
