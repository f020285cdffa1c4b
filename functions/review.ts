import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { safeErrorMessage } from '../lib/errors.ts';
import { Sandbox } from '../lib/remediate/sandbox.ts';
import type { ReviewContext } from '../lib/review/http/context.ts';
import { ReviewHttpEventSchema, type ReviewHttpEvent } from '../lib/review/http/event.ts';
import { textResponse, type HttpResponse } from '../lib/review/http/response.ts';
import { handleReview } from '../lib/review/http/router.ts';
import type { ReviewService } from '../lib/review/http/service.ts';
import { vaultReviewService } from '../lib/review/http/vault-service.ts';
import type { ReviewDeps } from '../lib/review/review-deps.ts';
import { config, logger, vault } from './runtime.ts';

/** Built once per container, on the first cluster measured: the sandbox process lives as long as the container. */
let deps: ReviewDeps | undefined;
const reviewDeps = (): ReviewDeps =>
  (deps ??= {
    store: vault,
    workDir: config.WORK_DIR,
    engine: { memoryLimit: config.ENGINE_MEMORY_LIMIT, threads: config.ENGINE_THREADS },
    sandbox: new Sandbox({ timeoutMs: config.SANDBOX_TIMEOUT_MS, memoryMb: config.SANDBOX_MEMORY_MB }),
  });
let service: ReviewService | undefined;
const context = (): ReviewContext => ({
  service: (service ??= vaultReviewService(vault, reviewDeps)),
  token: config.OPERATOR_TOKEN,
  log: (level, message, fields) => (level === 'error' ? logger.error(message, fields) : logger.info(message, fields)),
});

/** An event that is not an HTTP API (payload 2.0) request: logged, answered 400. */
const notHttpApi = (error: Error): HttpResponse => {
  logger.error('not an HTTP API request', { error: safeErrorMessage(error) });
  return textResponse(400, 'not an HTTP API (payload 2.0) request');
};

/** Anything that escapes the router is logged and answered 500, without details. */
function answerErrors(): middy.MiddlewareObj<ReviewHttpEvent, HttpResponse> {
  return {
    onError: async (request) => {
      if (request.response !== undefined) return;
      logger.error('review invocation failed', { error: safeErrorMessage(request.error) });
      request.response = textResponse(500, 'the review page failed; the error is logged');
    },
  };
}

/**
 * The operators' review page (an HTTP API / Function URL route, `GET /review...` and
 * `POST /review/batches/<batch>/clusters/<cluster>`): every request needs OPERATOR_TOKEN; see lib/review/http/router.ts.
 */
export const handler = middy<ReviewHttpEvent, HttpResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(answerErrors())
  .use(parser({ schema: ReviewHttpEventSchema, errorHandler: notHttpApi }))
  .handler((event) => handleReview(event, context()));
