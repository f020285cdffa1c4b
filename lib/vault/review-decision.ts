import { z } from 'zod';
import { FunctionSpecSchema } from './function-spec.ts';

/**
 * `reviews/<batch>/<cluster>.json`: what a person decided about a cluster waiting for review,
 * written first-writer-wins (a second decision on the same cluster is refused with the first
 * one's author and time). Its arrival triggers remediate, which re-remediates the cluster with
 * the function (approve, choose, edit); a rejection keeps the cells quarantined with its reason.
 */
export const REVIEW_ACTIONS = ['approve', 'choose', 'edit', 'reject'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

/** An operator's name as it is recorded: letters, digits and `._@-`, at most 64. */
export const OperatorName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits and ._@- (at most 64)');

export const ReviewDecisionSchema = z.object({
  schema_version: z.literal(1),
  batch: z.string(),
  stream: z.string(),
  cluster: z.string(),
  column: z.string(),
  rule: z.string(),
  action: z.enum(REVIEW_ACTIONS),
  /** Who decided (as they named themselves to the page or the CLI, behind the operator token or the vault's credentials). */
  operator: OperatorName,
  at: z.string(),
  /** The function approved (null for a rejection). */
  function: FunctionSpecSchema.nullable(),
  /** The function's measurement on every cell of the cluster when it was approved (null for a rejection). */
  measured: z
    .object({
      cells: z.number().int().nonnegative(),
      passed: z.number().int().nonnegative(),
      pass_rate: z.number(),
      failures: z.record(z.string(), z.number().int()),
    })
    .nullable(),
  /** A rejection's reason, or the operator's note. */
  reason: z.string().max(2000),
  /** The proposal approved or chosen by name (null for an edited function or a rejection). */
  candidate: z.string().nullable(),
});
export type ReviewDecision = z.infer<typeof ReviewDecisionSchema>;
