import { z } from 'zod';
import { FunctionSpecSchema } from './function-spec.ts';
import { jsonText } from '../store/json-objects.ts';

/**
 * `results/<batch>/<cluster>.json`: what remediate did with one cluster, the evidence behind
 * it, and where its rows went. Its arrival tells reconcile one more cluster is done. Values
 * of pii columns appear here only masked.
 */
export const TIERS = ['registry', 'synthesizer', 'model', 'review', 'operator'] as const;
export const DISPOSITIONS = ['fixed', 'partly-fixed', 'needs-review', 'llm-unavailable'] as const;

/** What backs an evidence function: its dependencies, the groups of its table and their weakest figures. */
export const DependencySummarySchema = z.object({
  rules: z.array(z.string()),
  determinant: z.array(z.string()),
  lookup_sha256: z.string(),
  groups: z.number().int().nonnegative(),
  contested_groups: z.number().int().nonnegative(),
  cells: z.number().int().nonnegative(),
  min_share: z.number(),
  mean_share: z.number(),
  min_support: z.number(),
  min_margin: z.number(),
});
export type DependencySummary = z.infer<typeof DependencySummarySchema>;

const Example = z.object({ before: z.string().nullable(), after: z.array(z.string().nullable()), verdict: z.string() });

export const ClusterResultSchema = z.object({
  schema_version: z.literal(1),
  batch: z.string(),
  stream: z.string(),
  cluster: z.string(),
  column: z.string(),
  rule: z.string(),
  disposition: z.enum(DISPOSITIONS),
  tier: z.enum(TIERS),
  /** The function applied (null when the cluster went to review). */
  function: FunctionSpecSchema.nullable(),
  confidence: z.number().min(0).max(1),
  threshold: z.number(),
  model: z.object({ name: z.string(), digest: z.string(), server_version: z.string() }).nullable(),
  model_calls: z.number().int().nonnegative(),
  measured: z.object({
    cells: z.number().int().nonnegative(),
    passed: z.number().int().nonnegative(),
    pass_rate: z.number(),
    failures: z.record(z.string(), z.number().int()),
    ambiguous_with: z.string().optional(),
  }),
  counts: z.object({
    cells: z.number().int().nonnegative(),
    rows: z.number().int().nonnegative(),
    staged_cells: z.number().int().nonnegative(),
    quarantined_cells: z.number().int().nonnegative(),
  }),
  /** Why it is where it is, in words (review and llm-unavailable especially). */
  reason: z.string(),
  evidence: z.object({
    tried: z.array(z.object({ name: z.string(), pass_rate: z.number(), gate: z.string(), stopped: z.string().optional() })),
    rounds: z.array(z.record(z.string(), z.unknown())),
    examples: z.array(Example),
    /** A dependency cluster's evidence (its table is in the decision). */
    dependency: DependencySummarySchema.optional(),
  }),
  outputs: z.object({ staged: z.string().nullable(), quarantine: z.string().nullable(), audit: z.string().nullable() }),
  decided_at: z.string(),
});
export type ClusterResult = z.infer<typeof ClusterResultSchema>;

export function serialiseClusterResult(result: ClusterResult): string {
  return jsonText(ClusterResultSchema.parse(result));
}
