import { z } from 'zod';

/**
 * The request as API Gateway HTTP API (payload 2.0), a Lambda Function URL and serverless-offline
 * deliver it: only the fields the review page reads are checked, the rest pass through.
 */
export const ReviewHttpEventSchema = z
  .object({
    rawPath: z.string().min(1).max(2048),
    rawQueryString: z.string().max(8192).default(''),
    headers: z.record(z.string(), z.string()).default({}),
    cookies: z.array(z.string()).optional(),
    body: z.string().nullish(),
    isBase64Encoded: z.boolean().default(false),
    requestContext: z.object({ http: z.object({ method: z.string().min(1).max(16) }).loose() }).loose(),
  })
  .loose();

/** A review request event after validation. */
export type ReviewHttpEvent = z.infer<typeof ReviewHttpEventSchema>;
