import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { safeErrorMessage, VaultmendError } from '../../lib/errors.ts';
import { StoreS3EventSchema, type StoreS3Event } from '../../lib/events/s3-event.ts';
import { lineage, logger } from '../runtime.ts';

/** An error that escapes the handler is logged before it is rethrown: async invocations leave no other trace. */
function logErrors(): middy.MiddlewareObj {
  return {
    onError: async (request) => {
      const error = request.error;
      logger.error('invocation failed', {
        error: safeErrorMessage(error),
        code: error instanceof VaultmendError ? error.code : undefined,
        keys: (request.event as StoreS3Event | undefined)?.Records?.map((r) => r.s3.object.key),
      });
    },
  };
}

/** The lineage events' POSTs still under way are awaited before the invocation ends (a frozen container would drop them). */
function flushLineage(): middy.MiddlewareObj {
  return {
    after: async () => {
      await lineage.flush();
    },
    onError: async () => {
      await lineage.flush();
    },
  };
}

/**
 * The one middleware stack of every S3-triggered handler: Lambda context in the logs, the event
 * validated with zod (AWS, Ceph RGW and MinIO shapes) before the handler sees it, errors logged,
 * and the lineage POSTs flushed at the end.
 */
export function s3EventHandler<R>(handle: (event: StoreS3Event, context: Context) => Promise<R>) {
  return middy<StoreS3Event, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(parser({ schema: StoreS3EventSchema }))
    .use(logErrors())
    .use(flushLineage())
    .handler(handle);
}
