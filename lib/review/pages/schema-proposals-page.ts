import type { ProposalDecision, SchemaProposal } from '../../contract/schema-proposals.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';
import { reviewLinks } from './links.ts';
import { schemaProposalForms } from './schema-proposal-forms.ts';
import { dataTable } from './table.ts';

/** The paths of a stream's schema proposals page and of one proposal's decision (each segment encoded). */
export const schemaProposalLinks = {
  list: (stream: string) => `/review/streams/${encodeURIComponent(stream)}/proposals`,
  decide: (stream: string, id: string) => `/review/streams/${encodeURIComponent(stream)}/proposals/${encodeURIComponent(id)}`,
};

/** A schema proposal as the page lists it: the proposal and its decision (absent: open). */
export type ListedSchemaProposal = SchemaProposal & { decision?: ProposalDecision };

/** Options of the proposals page: the token the forms carry. */
export interface SchemaProposalsPageOptions {
  token: string;
}

function stateOf(p: ListedSchemaProposal): SafeHtml {
  const d = p.decision;
  if (!d) return html`<b class="open">open</b>`;
  const reason = d.reason ? html`: <span class="reason">${d.reason}</span>` : '';
  return html`<b class="${d.decision}">${d.decision}</b> by <b class="operator">${d.by}</b> at <time>${d.at}</time>${reason}`;
}

function proposalSection(p: ListedSchemaProposal, options: SchemaProposalsPageOptions): SafeHtml {
  const v = p.verdict;
  const accepted = v.accepted
    ? html`<b class="ok">accepted</b> (batches were ingested under it)`
    : html`<b class="halted">not accepted</b> (the stream halted)`;
  const changes =
    v.changes.length === 0
      ? html`<p>No column changes.</p>`
      : dataTable(
          ['kind', 'column', 'detail'],
          v.changes.map((c) => [c.kind, c.column, c.detail]),
        );
  const hints = Object.entries(p.suggested_types ?? {});
  const suggested = hints.length
    ? html`<p class="suggested">The first file's values suggest: ${hints.map(([column, type], i) => html`${i ? ', ' : ''}<code>${column}</code> ${type}`)} (the proposal keeps them text; to type them, register a contract by hand)</p>`
    : '';
  const forms = p.decision ? '' : schemaProposalForms({ action: schemaProposalLinks.decide(p.stream, p.id), token: options.token });
  return html`<section class="schema-proposal" id="proposal-${p.id}" data-state="${p.decision?.decision ?? 'open'}">
<h2>Proposal <code>${p.id}</code></h2>
<p>First proposed at <time>${p.proposed_at}</time> by file <code class="key">${p.key}</code> (batch <a href="${reviewLinks.batch(p.batch)}">${p.batch}</a>) over registry version ${p.base.registry_version ?? 'unversioned'}</p>
<p>Policy <b>${v.policy}</b> · ${accepted} · rule: ${v.rule}${v.renamed ? html` · renamed ${v.renamed.from} → ${v.renamed.to}` : ''}</p>
<p>State ${stateOf(p)}</p>
${changes}
${suggested}
${forms}
</section>`;
}

/** A stream's schema proposals, newest first: each one's file, verdict, state and changes, and the adopt / reject forms while open. */
export function schemaProposalsPage(stream: string, proposals: ListedSchemaProposal[], options: SchemaProposalsPageOptions): string {
  const body =
    proposals.length === 0
      ? html`<p id="no-proposals">Stream ${stream} has no schema proposals.</p>`
      : proposals.map((p) => proposalSection(p, options));
  return layout(`schema proposals of ${stream}`, html`<h1>Schema proposals of <code>${stream}</code></h1>\n${body}`);
}
