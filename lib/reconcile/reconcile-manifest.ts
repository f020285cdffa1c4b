import { z } from 'zod';
import { jsonText } from '../store/json-objects.ts';

/**
 * `manifests/<batch>/reconcile.json`: the batch's proof. Every source row id in exactly one
 * lane (clean, fixed, quarantined), the promotion gates, where the curated rows and the
 * write-once audit are, and the audit's root hash. Timings are in the report, not here, so
 * that reconciling the same inputs again writes the same bytes.
 */
export const RECONCILE_STATUSES = ['promoted', 'gates-failed', 'data-loss', 'object-quarantined'] as const;

export const ReconcileManifestSchema = z.object({
  schema_version: z.literal(1),
  batch: z.string(),
  stream: z.string(),
  status: z.enum(RECONCILE_STATUSES),
  as_of: z.string(),
  rows: z.object({ source: z.number().int(), clean: z.number().int(), fixed: z.number().int(), quarantined: z.number().int() }),
  ledger: z.object({
    missing: z.array(z.number().int()),
    duplicated: z.array(z.number().int()),
    unexpected: z.array(z.number().int()),
    problems: z.object({ missing: z.number().int(), duplicated: z.number().int(), unexpected: z.number().int() }),
  }),
  gates: z.array(z.object({ gate: z.string(), passed: z.boolean(), failing_rows: z.number().int(), sample_row_ids: z.array(z.number().int()), detail: z.string().optional() })),
  curated: z.string().nullable(),
  audit: z.object({ key: z.string(), lines: z.number().int(), root_hash: z.string(), retain_until: z.string() }).nullable(),
  clusters: z.object({ count: z.number().int(), by_disposition: z.record(z.string(), z.number().int()), by_tier: z.record(z.string(), z.number().int()) }),
  model_calls: z.object({ expected: z.number().int(), actual: z.number().int() }),
  reduction: z.number(),
  quarantine_reasons: z.record(z.string(), z.number().int()),
});
export type ReconcileManifest = z.infer<typeof ReconcileManifestSchema>;

export function serialiseReconcileManifest(manifest: ReconcileManifest): string {
  return jsonText(ReconcileManifestSchema.parse(manifest));
}
