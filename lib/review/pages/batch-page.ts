import { html, type SafeHtml } from './html.ts';
import { appliedNote } from './applied-note.ts';
import { layout } from './layout.ts';
import { reviewLinks } from './links.ts';
import { reportSections } from './report-sections.ts';
import { stageOf } from './stage.ts';
import { dataTable } from './table.ts';
import type { BatchStatusView, BatchView } from './views.ts';

function waitingSection(status: BatchStatusView): SafeHtml {
  if (status.waiting_for_review.length === 0) return html``;
  const rows = status.waiting_for_review.map((w) => [
    html`<a href="${reviewLinks.cluster(status.batch, w.cluster)}">${w.cluster}</a>`,
    w.column,
    w.rule,
    w.cells,
    w.disposition,
    w.decision ? `${w.decision.action} by ${w.decision.operator} at ${w.decision.at}${appliedNote(w.decision)}` : '—',
  ]);
  return html`<h2>Waiting for review</h2>
${dataTable(['cluster', 'column', 'rule', 'cells', 'disposition', 'decision'], rows, 'waiting')}`;
}

/** A batch: its stage (`#status`), the clusters waiting for review, and its report once it is reconciled. */
export function batchPage(view: BatchView): string {
  const { status, report } = view;
  const { stage, label } = stageOf(status);
  const halted =
    status.stream_state.state === 'halted' ? html` · stream <b class="halted">halted</b>: ${status.stream_state.reason ?? '—'}` : '';
  const body = html`<h1>Batch <code>${status.batch}</code></h1>
<p>Stream <b>${status.stream}</b>${halted} · stage <b id="status" class="${stage}" data-stage="${stage}">${label}</b></p>
${waitingSection(status)}
${report ? reportSections(report) : html`<p id="no-report">No report yet: the batch is not reconciled.</p>`}`;
  return layout(`batch ${status.batch}`, body);
}
