import { safeErrorMessage } from '../../errors.ts';
import { messagePage } from '../pages/message-page.ts';
import { checkAccess } from './access.ts';
import type { ReviewContext } from './context.ts';
import type { ReviewHttpEvent } from './event.ts';
import { getPage } from './get-page.ts';
import { getProposals } from './get-proposals.ts';
import { matchPath } from './paths.ts';
import { postDecision } from './post-decision.ts';
import { postProposal } from './post-proposal.ts';
import { readRequest, type ReviewRequest } from './request.ts';
import { htmlResponse, seeOther, textResponse, type HttpResponse } from './response.ts';

/** The answer of every request while no operator token is configured. */
export const REVIEW_OFF = 'no OPERATOR_TOKEN is configured: the review page is off';

const notAllowed = (allow: string) => htmlResponse(405, messagePage('Method not allowed', `This page answers ${allow} only.`), { allow });

async function route(request: ReviewRequest, ctx: ReviewContext): Promise<HttpResponse> {
  const matched = matchPath(request.path);
  if (matched.page === 'none') return htmlResponse(404, messagePage('Not found', 'There is no such review page.'));
  if (matched.page === 'bad') return htmlResponse(400, messagePage('Bad request', matched.why));
  if (matched.page === 'schema-proposal')
    return request.method === 'POST' ? postProposal(matched.stream, matched.id, request.form, ctx) : notAllowed('POST');
  if (request.method === 'GET') return matched.page === 'schema-proposals' ? getProposals(matched.stream, ctx) : getPage(matched, ctx);
  if (matched.page !== 'cluster') return notAllowed('GET');
  if (request.method !== 'POST') return notAllowed('GET, POST');
  return postDecision(matched.batch, matched.cluster, request.form, ctx);
}

/**
 * Answers one review request (an API Gateway HTTP API v2 event): the operator check first (401
 * rendering nothing of the vault; a `?token=` GET sets the cookie and redirects without it), then
 * the page or the decision. An unexpected failure is logged and answered 500 without details.
 */
export async function handleReview(event: ReviewHttpEvent, ctx: ReviewContext): Promise<HttpResponse> {
  const request = readRequest(event);
  const access = checkAccess(request, ctx.token);
  if (access.kind === 'off') return textResponse(401, REVIEW_OFF);
  if (access.kind === 'denied')
    return textResponse(401, 'operator token missing or wrong', { 'www-authenticate': 'Bearer realm="vaultmend review"' });
  if (access.kind === 'set-cookie') return seeOther(access.location, [access.cookie]);
  try {
    return await route(request, ctx);
  } catch (error) {
    ctx.log?.('error', 'review request failed', { method: request.method, path: request.path, error: safeErrorMessage(error) });
    return htmlResponse(500, messagePage('Something failed', 'The page could not be built; the error is logged.'));
  }
}
