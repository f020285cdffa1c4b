import { z } from 'zod';

/**
 * A transformation function as the vault records it wherever one is named (a cluster's result, a
 * person's review decision; a remediation decision adds an evidence function's lookup table): its
 * catalog or registry name, its source, and the columns it reads and writes.
 *
 * @example
 * const Result = z.object({ function: FunctionSpecSchema.nullable() });
 */
export const FunctionSpecSchema = z.object({
  name: z.string(),
  source: z.string(),
  reads: z.array(z.string()),
  writes: z.array(z.string()),
});
export type FunctionSpec = z.infer<typeof FunctionSpecSchema>;
