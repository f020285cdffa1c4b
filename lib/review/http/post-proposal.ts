import { z } from 'zod';
import { ProposalError } from '../../streams/decide-schema.ts';
import { OperatorName } from '../../vault/review-decision.ts';
import { html, type SafeHtml } from '../pages/html.ts';
import { messagePage } from '../pages/message-page.ts';
import { schemaProposalLinks } from '../pages/schema-proposals-page.ts';
import type { ReviewContext } from './context.ts';
import { readForm } from './decision-form.ts';
import { notFound } from './get-page.ts';
import { htmlResponse, seeOther, type HttpResponse } from './response.ts';
import type { SchemaProposalRequest } from './schema-proposal-service.ts';

const required = (max: number) =>
  z.string({ error: 'is required' }).trim().min(1, 'is required').max(max, `is longer than ${max} characters`);
const operator = z.string({ error: 'is required' }).pipe(OperatorName);

/** The schema proposal form's fields (application/x-www-form-urlencoded), by action; the operator named as on the cluster forms. */
export const SchemaProposalFormSchema = z.discriminatedUnion(
  'action',
  [z.object({ action: z.literal('adopt'), operator }), z.object({ action: z.literal('reject'), operator, reason: required(2000) })],
  { error: (issue) => (issue.code === 'invalid_union' ? 'must be adopt or reject' : undefined) },
);

/** A form's fields read as a decision on proposal `id` of `stream`, or what is wrong with them (each problem named by field). */
export function parseSchemaProposalForm(
  form: URLSearchParams,
  stream: string,
  id: string,
): { ok: true; request: SchemaProposalRequest } | { ok: false; problems: string[] } {
  const read = readForm(SchemaProposalFormSchema, form);
  return read.ok ? { ok: true, request: { ...read.data, stream, id } } : read;
}

function answerPage(status: number, title: string, message: string, stream: string, more: SafeHtml = html``): HttpResponse {
  const back = html`${more}<p><a href="${schemaProposalLinks.list(stream)}">back to the schema proposals of ${stream}</a></p>`;
  return htmlResponse(status, messagePage(title, message, back));
}

function badRequest(stream: string, problems: string[]): HttpResponse {
  const list = html`<ul id="problems">${problems.map((p) => html`<li>${p}</li>`)}</ul>\n`;
  return answerPage(400, 'Bad request', 'The form is not valid; nothing was written.', stream, list);
}

/** A ProposalError as an answer: 404 for an unknown proposal, 409 for one decided already or stale; anything else is thrown on. */
function refused(error: unknown, stream: string): HttpResponse {
  if (!(error instanceof ProposalError)) throw error;
  if (error.code === 'proposal-unknown') return answerPage(404, 'Not found', error.message, stream);
  const title = error.code === 'proposal-stale' ? 'Stale proposal' : 'Already decided';
  return answerPage(409, title, error.message, stream);
}

/**
 * A decision posted on a schema proposal: the form validated (400 naming each problem, nothing
 * written), then adopt or reject — 303 to the stream's proposals page once decided, 404 for an
 * unknown proposal, 409 for one decided already or made over an older contract version.
 */
export async function postProposal(stream: string, id: string, form: URLSearchParams | null, ctx: ReviewContext): Promise<HttpResponse> {
  if (!ctx.service.decideSchemaProposal) return notFound(`schema proposal ${id} of ${stream}`);
  if (!form) return badRequest(stream, ['body: must be application/x-www-form-urlencoded']);
  const parsed = parseSchemaProposalForm(form, stream, id);
  if (!parsed.ok) return badRequest(stream, parsed.problems);
  const { action, operator: by } = parsed.request;
  try {
    await ctx.service.decideSchemaProposal(parsed.request);
  } catch (error) {
    const answer = refused(error, stream);
    ctx.log?.('info', 'schema proposal decision refused', { stream, id, action, operator: by, code: (error as ProposalError).code });
    return answer;
  }
  ctx.log?.('info', 'schema proposal decision', { stream, id, action, operator: by });
  return seeOther(schemaProposalLinks.list(stream));
}
