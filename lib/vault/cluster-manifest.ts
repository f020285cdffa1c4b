import { z } from 'zod';
import { jsonText } from '../store/json-objects.ts';

/**
 * `manifests/<batch>/cluster.json`: how a batch's suspect rows were compressed into clusters.
 * Written before any cluster object, so whoever reconciles the batch knows which results to
 * wait for.
 */
const ClusterManifestV2 = z.object({
  schema_version: z.literal(2),
  batch: z.string(),
  stream: z.string(),
  suspect_rows: z.number().int().nonnegative(),
  cells: z.number().int().nonnegative(),
  exact_groups: z.number().int().nonnegative(),
  clusters: z.array(
    z.object({ cluster: z.string(), column: z.string(), rule: z.string(), shapes: z.number().int(), cells: z.number().int() }),
  ),
  /** One per cluster: the most the model tier can be asked, before repair rounds. */
  expected_model_calls: z.number().int().nonnegative(),
  /**
   * 1 - clusters / suspect rows (0 without suspect rows): how far clustering compressed the
   * suspect rows, i.e. the share of model calls saved against one call per suspect row if every
   * cluster went to the model once. An upper bound before anything is decided; the calls
   * actually made are the reconcile manifest's `model_call_reduction`.
   */
  cluster_compression: z.number().min(0).max(1),
  embedder: z.object({ name: z.string(), dimensions: z.number().int() }),
  index: z.string(),
  merge_similarity: z.number(),
  timings_ms: z.record(z.string(), z.number().nonnegative()),
});

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A schema-1 manifest read as schema 2: its `reduction` (by clusters per suspect row) is `cluster_compression`. */
export function upgradeClusterManifestV1(input: unknown): unknown {
  if (!isObject(input) || input['schema_version'] !== 1) return input;
  const { reduction, ...rest } = input;
  return { ...rest, schema_version: 2, cluster_compression: reduction };
}

/** Parses a cluster manifest of schema 2, or of schema 1 upgraded (see upgradeClusterManifestV1). */
export const ClusterManifestSchema = z.preprocess(upgradeClusterManifestV1, ClusterManifestV2);
/** A cluster manifest, schema 2. */
export type ClusterManifest = z.infer<typeof ClusterManifestV2>;

/** The manifest's stored text (checked against the schema first). */
export function serialiseClusterManifest(manifest: ClusterManifest): string {
  return jsonText(ClusterManifestV2.parse(manifest));
}
