import { z } from 'zod';
import { FunctionSpecSchema } from './function-spec.ts';
import { DependencySummarySchema, TIERS } from './cluster-result.ts';

/**
 * A cluster's remediation decision (`decisions/<batch>/<cluster>.json`), stored first-writer-wins
 * before any output is written: a retried or duplicated delivery applies the same function, so
 * it writes the same objects, even though a model might answer otherwise.
 */
const FunctionSchema = FunctionSpecSchema.extend({
  /** An evidence function's lookup table, whose SHA-256 its source names. */
  lookup: z.record(z.string(), z.string()).optional(),
});
export const DecisionSchema = z.object({
  schema_version: z.literal(1),
  tier: z.enum(TIERS),
  disposition: z.enum(['fix', 'needs-review', 'llm-unavailable']),
  function: FunctionSchema.nullable(),
  confidence: z.number(),
  model: z.object({ name: z.string(), digest: z.string(), server_version: z.string() }).nullable(),
  model_calls: z.number().int(),
  reason: z.string(),
  ambiguous_with: z.string().optional(),
  /** A dependency cluster's evidence, as measured when it was decided. */
  dependency: DependencySummarySchema.optional(),
  tried: z.array(z.object({ name: z.string(), pass_rate: z.number(), gate: z.string(), stopped: z.string().optional() })),
  rounds: z.array(z.record(z.string(), z.unknown())),
  decided_at: z.string(),
});
export type Decision = z.infer<typeof DecisionSchema>;

/** The model tier's standing for a batch, shared by its clusters through the store. */
export const ModelTierSchema = z.object({
  status: z.enum(['not-configured', 'unreachable', 'unavailable']),
  reason: z.string(),
  at: z.string(),
});
