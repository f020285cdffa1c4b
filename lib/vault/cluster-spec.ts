import { z } from 'zod';
import { jsonText } from '../store/json-objects.ts';

/**
 * `work/<batch>/clusters/<cluster>.json`: one error pattern of a batch, the unit of work of one
 * `remediate` invocation (its arrival triggers it). Its cells (every row it covers, with
 * `row_id` and `pk_hash`) are in the Parquet object `cells`.
 */
export const ClusterSpecSchema = z.object({
  schema_version: z.literal(1),
  batch: z.string(),
  stream: z.string(),
  cluster: z.string().regex(/^c-[0-9a-f]{16}$/),
  column: z.string(),
  rule: z.string(),
  /** Whether the column holds personal data (samples must be masked before they leave the function). */
  pii: z.boolean(),
  /** The shapes merged into this cluster, most cells first. */
  shapes: z.array(z.object({ shape: z.string(), cells: z.number().int().positive() })),
  cells: z.number().int().positive(),
  /** Representative values, chosen to cover the cluster's shapes (one per shape first). */
  samples: z.array(z.object({ value: z.string().nullable(), shape: z.string(), row_id: z.number().int(), occurrences: z.number().int() })),
  /** Parquet: row_id, pk_hash, column_name, rule, value, shape — one row per cell. */
  cells_object: z.string(),
  contract: z.object({ version: z.number().int() }),
});
export type ClusterSpec = z.infer<typeof ClusterSpecSchema>;

export function serialiseClusterSpec(spec: ClusterSpec): string {
  return jsonText(ClusterSpecSchema.parse(spec));
}
