import { schemaProposalsPage } from '../pages/schema-proposals-page.ts';
import type { ReviewContext } from './context.ts';
import { notFound } from './get-page.ts';
import { htmlResponse, type HttpResponse } from './response.ts';

/** Answers a GET of a stream's schema proposals page (404 for a stream the vault has no contract or proposal of). */
export async function getProposals(stream: string, ctx: ReviewContext): Promise<HttpResponse> {
  const proposals = await ctx.service.schemaProposals?.(stream);
  return proposals ? htmlResponse(200, schemaProposalsPage(stream, proposals, { token: ctx.token ?? '' })) : notFound(`stream ${stream}`);
}
