import { z } from 'zod';

/** The ingest manifest: what arrived, its fingerprint and how many rows it holds. */
export const IngestManifestSchema = z.object({
  schema_version: z.literal(1),
  batch: z.string(),
  stream: z.string(),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    version_id: z.string().nullable(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  rows: z.object({
    /** Data rows: records after the header. */
    source: z.number().int().nonnegative(),
  }),
});

export type IngestManifest = z.infer<typeof IngestManifestSchema>;

/** Stable bytes for a manifest: key order fixed by construction, one trailing newline. */
export function serialiseManifest(manifest: IngestManifest): string {
  return `${JSON.stringify(IngestManifestSchema.parse(manifest), null, 2)}\n`;
}
