import { z } from 'zod';
import { jsonText } from '../store/json-objects.ts';

/**
 * `manifests/<batch>/reconcile.json`: the batch's proof. Every source row id in exactly one
 * lane (clean, fixed, quarantined), every fix on the row whose identity it names, the promotion
 * gates, where the curated rows and the write-once audit are, and the audit's root hash.
 * Timings are in the report, not here, so that reconciling the same inputs again writes the
 * same bytes.
 */

/** How a batch ended: promoted, held back by a gate, failed by the ledger (`data-loss`), or set aside whole at ingest. */
export const RECONCILE_STATUSES = ['promoted', 'gates-failed', 'data-loss', 'object-quarantined'] as const;

/** The manifest as written since schema 2 (schema 1 is read through upgradeReconcileManifestV1). */
const ReconcileManifestV2 = z.object({
  schema_version: z.literal(2),
  batch: z.string(),
  stream: z.string(),
  /** `data-loss` when the ledger finds any row id missing, duplicated, unknown or mismatched: nothing promoted. */
  status: z.enum(RECONCILE_STATUSES),
  as_of: z.string(),
  rows: z.object({ source: z.number().int(), clean: z.number().int(), fixed: z.number().int(), quarantined: z.number().int() }),
  /** The row ids that break law 4 or 5 (each list cut at 100; `problems` holds the full counts). */
  ledger: z.object({
    missing: z.array(z.number().int()),
    duplicated: z.array(z.number().int()),
    unexpected: z.array(z.number().int()),
    /** Rows that a staged fix, quarantined cell or audit change names with a `pk_hash` other than the row's. */
    mismatched: z.array(z.number().int()),
    problems: z.object({
      missing: z.number().int(),
      duplicated: z.number().int(),
      unexpected: z.number().int(),
      mismatched: z.number().int(),
    }),
  }),
  gates: z.array(
    z.object({
      gate: z.string(),
      passed: z.boolean(),
      failing_rows: z.number().int(),
      sample_row_ids: z.array(z.number().int()),
      detail: z.string().optional(),
    }),
  ),
  curated: z.string().nullable(),
  audit: z.object({ key: z.string(), lines: z.number().int(), root_hash: z.string(), retain_until: z.string() }).nullable(),
  clusters: z.object({
    count: z.number().int(),
    by_disposition: z.record(z.string(), z.number().int()),
    by_tier: z.record(z.string(), z.number().int()),
  }),
  model_calls: z.object({ expected: z.number().int(), actual: z.number().int() }),
  /**
   * 1 - (model calls actually made) / (suspect rows), at least 0; 0 when there are no suspect
   * rows. The share of model calls saved against asking the model once per suspect row. (The
   * cluster manifest's `cluster_compression` is the bound before any call: clusters, not calls.)
   */
  model_call_reduction: z.number().min(0).max(1),
  quarantine_reasons: z.record(z.string(), z.number().int()),
  /**
   * Revisions after operator decisions (absent on the first reconcile, revision 0): which revision
   * this is, the reviewed clusters it covers (all of them up to this revision), the curated parts
   * promoted so far (each row in exactly one), and the audit objects of the batch in chain order.
   */
  revision: z.number().int().positive().optional(),
  reviewed: z.array(z.string()).optional(),
  curated_parts: z.array(z.string()).optional(),
  audit_chain: z.array(z.object({ key: z.string(), lines: z.number().int(), root_hash: z.string(), retain_until: z.string() })).optional(),
});

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A schema-1 manifest read as schema 2: its `reduction` (already by model calls) is
 * `model_call_reduction`, and schema 1 did not check identities, so it names no mismatched row.
 * Anything else passes through unchanged (and is judged by the schema).
 */
export function upgradeReconcileManifestV1(input: unknown): unknown {
  if (!isObject(input) || input['schema_version'] !== 1) return input;
  const { reduction, ledger, ...rest } = input;
  const upgradedLedger =
    isObject(ledger) && isObject(ledger['problems'])
      ? { ...ledger, mismatched: [], problems: { ...ledger['problems'], mismatched: 0 } }
      : ledger;
  return { ...rest, schema_version: 2, ledger: upgradedLedger, model_call_reduction: reduction };
}

/** Parses a reconcile manifest of schema 2, or of schema 1 upgraded (see upgradeReconcileManifestV1). */
export const ReconcileManifestSchema = z.preprocess(upgradeReconcileManifestV1, ReconcileManifestV2);
/** A reconcile manifest, schema 2. */
export type ReconcileManifest = z.infer<typeof ReconcileManifestV2>;

/** The manifest's stored text (checked against the schema first). */
export function serialiseReconcileManifest(manifest: ReconcileManifest): string {
  return jsonText(ReconcileManifestV2.parse(manifest));
}
