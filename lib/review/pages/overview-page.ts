import { html, type SafeHtml } from './html.ts';
import { appliedNote } from './applied-note.ts';
import { layout } from './layout.ts';
import { reviewLinks } from './links.ts';
import { schemaProposalLinks } from './schema-proposals-page.ts';
import { stageOf } from './stage.ts';
import { dataTable } from './table.ts';
import type { BatchStatusView, StreamView } from './views.ts';

function waitingClusters(status: BatchStatusView): SafeHtml {
  if (status.waiting_for_review.length === 0) return html`—`;
  const items = status.waiting_for_review.map((w) => {
    const decided = w.decision
      ? html` <span class="decided">${w.decision.action} by ${w.decision.operator} at ${w.decision.at}${appliedNote(w.decision)}</span>`
      : '';
    return html`<li><a href="${reviewLinks.cluster(status.batch, w.cluster)}">${w.cluster}</a> ${w.column} · ${w.rule} · ${w.cells} cell(s) · ${w.disposition}${decided}</li>`;
  });
  return html`<ul>${items}</ul>`;
}

function batchRow(status: BatchStatusView) {
  const { stage, label } = stageOf(status);
  const rows = status.rows;
  return [
    html`<a href="${reviewLinks.batch(status.batch)}">${status.batch}</a>`,
    html`<span class="stage ${stage}" data-stage="${stage}">${label}</span>`,
    rows ? rows.source : '—',
    rows ? rows.clean : '—',
    rows ? rows.fixed : '—',
    rows ? rows.quarantined : '—',
    waitingClusters(status),
  ];
}

function proposalsLink(stream: StreamView): SafeHtml {
  const open = stream.open_proposals ?? 0;
  const text = open === 0 ? 'schema proposals' : `${open} schema proposal${open === 1 ? '' : 's'} open`;
  return html`<a class="${open === 0 ? 'proposals' : 'open-proposals'}" href="${schemaProposalLinks.list(stream.stream)}">${text}</a>`;
}

function streamSection(stream: StreamView): SafeHtml {
  const state =
    stream.state === 'halted'
      ? html`<b class="halted">halted</b>${stream.reason ? html`: ${stream.reason}` : ''}`
      : html`<b class="ok">running</b>`;
  const batches =
    stream.batches.length === 0
      ? html`<p>No batches yet.</p>`
      : dataTable(['batch', 'stage', 'source', 'clean', 'fixed', 'quarantined', 'waiting for review'], stream.batches.map(batchRow));
  return html`<section class="stream" data-stream="${stream.stream}">
<h2>${stream.stream}</h2>
<p>State ${state} · ${stream.waiting_files} file(s) waiting · ${proposalsLink(stream)}</p>
${batches}
</section>`;
}

/** The front page: every stream (running or halted and why, files waiting, a link to its schema proposals, naming how many are open) and its batches (in key order), each linked. */
export function overviewPage(streams: StreamView[]): string {
  const body = streams.length === 0 ? html`<p>No stream has a contract yet.</p>` : streams.map(streamSection);
  return layout('streams', html`<h1>Streams and batches</h1>\n${body}`);
}
