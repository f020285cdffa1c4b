import type { ClusterEvidence } from '../cluster-evidence.ts';
import { cellValue } from './cell-value.ts';
import { html, type SafeHtml } from './html.ts';
import { dataTable } from './table.ts';

function automaticSection(result: ClusterEvidence['result']): SafeHtml {
  if (!result) return html`<p>No result yet: remediate has not finished this cluster.</p>`;
  const tried = dataTable(
    ['tier / function', 'pass rate', 'gate', 'stopped by'],
    result.tried.map((t) => [t.name, `${(t.pass_rate * 100).toFixed(1)}%`, t.gate, t.stopped ?? '—']),
    'tried',
  );
  const reasoning =
    result.reasoning.length > 0
      ? html`<h3>Model reasoning${result.model ? html` (<code>${result.model}</code>)` : ''}</h3><ul id="reasoning">${result.reasoning.map((r) => html`<li>${r}</li>`)}</ul>`
      : html`<p>No model reasoning${result.model ? '' : ' (the model tier did not run)'}.</p>`;
  const d = result.dependency;
  const evidence = d
    ? html`<h3>Evidence from other rows</h3>
${dataTable(
  [
    'rules',
    'groups',
    'contested groups',
    'cells covered',
    'weakest share',
    'mean share',
    'weakest support',
    'weakest margin',
    'table SHA-256',
  ],
  [
    [
      d.rules.join(', '),
      d.groups,
      d.contested_groups,
      d.cells,
      d.min_share.toFixed(2),
      d.mean_share.toFixed(2),
      d.min_support,
      d.min_margin.toFixed(2),
      html`<code>${d.lookup_sha256}</code>`,
    ],
  ],
  'dependency-evidence',
)}`
    : '';
  return html`<h2>What the automatic tiers did</h2>
<p>Disposition <b class="disposition ${result.disposition}">${result.disposition}</b> · tier ${result.tier} · confidence ${result.confidence.toFixed(2)} (threshold ${result.threshold.toFixed(2)})</p>
<p class="reason">${result.reason}</p>
${tried}
${evidence}
${reasoning}`;
}

/** The evidence of a cluster: column and rule, shapes, samples (masked when pii), and what the tiers tried and why they stopped. */
export function evidenceSections(evidence: ClusterEvidence): SafeHtml {
  return html`<p>Column <code>${evidence.column}</code> · rule <code>${evidence.rule}</code> · ${evidence.cells} cell(s)${evidence.pii ? ' · pii (samples masked)' : ''}${evidence.ambiguous_with ? html` · ambiguous: <b>${evidence.ambiguous_with}</b>` : ''}</p>
<h2>Shapes</h2>
${dataTable(
  ['shape', 'cells'],
  evidence.shapes.map((s) => [html`<code>${s.shape}</code>`, s.cells]),
  'shapes',
)}
<h2>Samples</h2>
${dataTable(
  ['value', 'shape', 'occurrences'],
  evidence.samples.map((s) => [cellValue(s.value), html`<code>${s.shape}</code>`, s.occurrences]),
  'samples',
)}
${automaticSection(evidence.result)}`;
}
