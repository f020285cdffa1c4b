import type { OperatorOutcome, OperatorRequest } from '../operator-decision.ts';
import { clusterPage, type ShownOutcome } from '../pages/cluster-page.ts';
import { conflictPage } from '../pages/conflict-page.ts';
import { html } from '../pages/html.ts';
import { reviewLinks } from '../pages/links.ts';
import { messagePage } from '../pages/message-page.ts';
import type { ReviewContext } from './context.ts';
import { parseDecisionForm } from './decision-form.ts';
import { notFound } from './get-page.ts';
import { htmlResponse, seeOther, type HttpResponse } from './response.ts';

function badRequest(batch: string, cluster: string, problems: string[]): HttpResponse {
  const more = html`<ul id="problems">${problems.map((p) => html`<li>${p}</li>`)}</ul>
<p><a href="${reviewLinks.cluster(batch, cluster)}">back to the cluster</a></p>`;
  return htmlResponse(400, messagePage('Bad request', 'The form is not valid; nothing was written.', more));
}

/** The cluster page again with a preview (200) or a refusal (422) on top; nothing was written. */
async function shown(request: OperatorRequest, outcome: ShownOutcome, ctx: ReviewContext): Promise<HttpResponse> {
  const evidence = await ctx.service.cluster(request.batch, request.cluster);
  if (!evidence) return notFound(`cluster ${request.cluster} of ${request.batch}`);
  const page = clusterPage(evidence, { token: ctx.token ?? '', operator: request.operator, outcome });
  return htmlResponse(outcome.status === 'preview' ? 200 : 422, page);
}

function answer(request: OperatorRequest, outcome: OperatorOutcome, ctx: ReviewContext): Promise<HttpResponse> | HttpResponse {
  const note = request.action !== 'reject' && request.note ? { note: request.note } : {};
  switch (outcome.status) {
    case 'decided':
      return seeOther(reviewLinks.cluster(request.batch, request.cluster));
    case 'already-decided':
      return htmlResponse(409, conflictPage(outcome.decision));
    case 'preview':
      return shown(request, { status: 'preview', measured: outcome.measured, ...note }, ctx);
    case 'refused':
      return shown(
        request,
        {
          status: 'refused',
          reason: outcome.reason,
          measured: outcome.measured,
          ...(request.action === 'edit' ? { source: request.source } : {}),
        },
        ctx,
      );
  }
}

/**
 * A decision posted on a cluster: the form validated (400 naming each problem, nothing written),
 * then the domain's outcome — 303 to the cluster page once decided, 409 when someone decided
 * first, the page with the edit's preview or the refusal otherwise.
 */
export async function postDecision(
  batch: string,
  cluster: string,
  form: URLSearchParams | null,
  ctx: ReviewContext,
): Promise<HttpResponse> {
  if (!form) return badRequest(batch, cluster, ['body: must be application/x-www-form-urlencoded']);
  const parsed = parseDecisionForm(form, batch, cluster);
  if (!parsed.ok) return badRequest(batch, cluster, parsed.problems);
  const outcome = await ctx.service.decide(parsed.request);
  if (!outcome) return notFound(`cluster ${cluster} of ${batch}`);
  ctx.log?.('info', 'operator decision', {
    batch,
    cluster,
    action: parsed.request.action,
    operator: parsed.request.operator,
    outcome: outcome.status,
  });
  return answer(parsed.request, outcome, ctx);
}
