import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { sweep, type SweepEntry } from '../lib/replay/sweep.ts';
import { alerts, config, logger, vault } from './runtime.ts';

/** A scheduled invocation (EventBridge `Scheduled Event`), or an operator's `{}`: nothing in it is read. */
const ScheduledEventSchema = z.object({ 'detail-type': z.string().optional(), source: z.string().optional() }).loose();

/**
 * Every few minutes (a schedule on AWS; the local stack's supervisor invokes it): every batch
 * stopped at any step, idle longer than a claim's lease, is re-driven from its first missing output
 * (lib/replay/sweep.ts). A raw object that the sweep replayed before and that still has no batch
 * raises a SEV2 alert: a person must look at it.
 */
export const handler = middy<z.infer<typeof ScheduledEventSchema>, SweepEntry[]>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(parser({ schema: ScheduledEventSchema }))
  .handler(async () => {
    const entries = await sweep(vault, { afterSeconds: config.CLAIM_LEASE_S, leaseSeconds: config.CLAIM_LEASE_S });
    for (const e of entries) {
      logger.info(`sweep: ${e.target} stopped at ${e.step}: ${e.action}`, { ...e });
      if (e.action !== 'replayed-before') continue;
      await alerts.post({
        severity: 'SEV2',
        component: 'sweep',
        stream: e.target.split('/')[1] ?? 'unknown',
        reason: 'object-not-ingested',
        summary: `${e.target} was replayed once by the sweep and still has no batch: look at ingest's log for it`,
        details: { idle_seconds: e.idle_seconds },
      });
    }
    return entries;
  });
