import { batchPage } from '../pages/batch-page.ts';
import { clusterPage } from '../pages/cluster-page.ts';
import { messagePage } from '../pages/message-page.ts';
import { overviewPage } from '../pages/overview-page.ts';
import type { ReviewContext } from './context.ts';
import type { ReviewRoute } from './paths.ts';
import { htmlResponse, type HttpResponse } from './response.ts';

/** 404 for a batch or cluster the vault does not hold. */
export const notFound = (what: string): HttpResponse => htmlResponse(404, messagePage('Not found', `${what} is not in the vault.`));

/** Answers a GET of one of the pages (the route already matched and its ids checked). */
export async function getPage(
  route: Extract<ReviewRoute, { page: 'overview' | 'batch' | 'cluster' }>,
  ctx: ReviewContext,
): Promise<HttpResponse> {
  if (route.page === 'overview') return htmlResponse(200, overviewPage(await ctx.service.overview()));
  if (route.page === 'batch') {
    const view = await ctx.service.batch(route.batch);
    return view ? htmlResponse(200, batchPage(view)) : notFound(`batch ${route.batch}`);
  }
  const evidence = await ctx.service.cluster(route.batch, route.cluster);
  return evidence
    ? htmlResponse(200, clusterPage(evidence, { token: ctx.token ?? '' }))
    : notFound(`cluster ${route.cluster} of ${route.batch}`);
}
