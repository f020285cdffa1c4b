import { z } from 'zod';
import { jsonText } from '../store/json-objects.ts';

/**
 * `manifests/<batch>/cluster.json`: how a batch's suspect rows were compressed into clusters.
 * Written before any cluster object, so whoever reconciles the batch knows which results to
 * wait for. `expected_model_calls` is one per cluster (the most the model tier can be asked,
 * before repair rounds); `reduction` = 1 - calls / suspect rows.
 */
export const ClusterManifestSchema = z.object({
  schema_version: z.literal(1),
  batch: z.string(),
  stream: z.string(),
  suspect_rows: z.number().int().nonnegative(),
  cells: z.number().int().nonnegative(),
  exact_groups: z.number().int().nonnegative(),
  clusters: z.array(z.object({ cluster: z.string(), column: z.string(), rule: z.string(), shapes: z.number().int(), cells: z.number().int() })),
  expected_model_calls: z.number().int().nonnegative(),
  reduction: z.number().min(0).max(1),
  embedder: z.object({ name: z.string(), dimensions: z.number().int() }),
  index: z.string(),
  merge_similarity: z.number(),
  timings_ms: z.record(z.string(), z.number().nonnegative()),
});
export type ClusterManifest = z.infer<typeof ClusterManifestSchema>;

export function serialiseClusterManifest(manifest: ClusterManifest): string {
  return jsonText(ClusterManifestSchema.parse(manifest));
}
