import type { BatchReport } from '../../reconcile/batch-report.ts';
import { html, type SafeHtml } from './html.ts';
import { reviewLinks } from './links.ts';
import { rowsChart } from './rows-chart.ts';
import { dataTable } from './table.ts';

const WAITING = new Set(['needs-review', 'llm-unavailable']);

function clustersTable(report: BatchReport): SafeHtml {
  const rows = report.clusters.patterns.map((p) => [
    html`<a href="${reviewLinks.cluster(report.batch, p.cluster)}">${p.cluster}</a>${WAITING.has(p.disposition) ? html` <b class="waiting-for-review">review</b>` : ''}`,
    p.column,
    p.rule,
    p.cells,
    html`<span class="disposition ${p.disposition}">${p.disposition}</span>`,
    p.tier,
    p.function ?? '—',
    p.confidence.toFixed(2),
    p.model_calls,
  ]);
  return dataTable(
    ['cluster', 'column', 'rule', 'cells', 'disposition', 'tier', 'function', 'confidence', 'model calls'],
    rows,
    'clusters',
  );
}

/** The report's sections: where the rows went (chart and table), the clusters (each linked), quarantine reasons, gates, outputs. */
export function reportSections(report: BatchReport): SafeHtml {
  const s = report.stages;
  return html`<p>Report as of ${report.as_of} · reconcile status <b class="${report.status}">${report.status}</b></p>
<h2>Where the rows went</h2>
${rowsChart(report)}
${dataTable(['source', 'clean', 'suspect', 'fixed', 'quarantined', 'duplicates collapsed'], [[s.source, s.clean, s.suspect, s.fixed, s.quarantined, s.duplicates_collapsed]])}
<h2>Clusters</h2>
<p>${report.clusters.count} cluster(s); model calls ${report.model_calls.actual} (at most ${report.model_calls.expected} expected before repairs).</p>
${clustersTable(report)}
<h2>Quarantine reasons</h2>
${dataTable(['reason', 'rows'], Object.entries(report.quarantine_reasons))}
<h2>Promotion gates</h2>
${dataTable(
  ['gate', 'passed', 'failing rows', 'sample row ids'],
  report.gates.map((g) => [g.gate, g.passed ? 'yes' : 'NO', g.failing_rows, g.sample_row_ids.join(' ')]),
)}
<h2>Outputs</h2>
${dataTable(
  ['output', 'key'],
  [
    ['curated', report.outputs.curated ?? '— (not promoted)'],
    ['audit', report.outputs.audit ?? '—'],
    ['audit root hash', report.outputs.audit_root_hash ?? '—'],
  ],
)}`;
}
