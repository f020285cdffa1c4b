import { z } from 'zod';
import { jsonText } from '../store/json-objects.ts';

/**
 * Why a whole object is quarantined instead of processed. The codes are stable: they appear in
 * manifests, quarantine records, alerts and metrics.
 */
export const REJECT_REASONS = [
  'empty-file',
  'no-rows',
  'csv-ragged-row',
  'csv-unterminated-quote',
  'csv-duplicate-header',
  'csv-row-count-mismatch',
  'invalid-encoding',
  'line-too-long',
  'not-gzip',
  'parquet-invalid',
  'jsonl-invalid',
  'jsonl-not-object',
  'unknown-stream',
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
  contract: z.object({ version: z.number().int(), fingerprint: z.string() }),
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
