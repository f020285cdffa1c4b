import type { Proposal } from '../proposal.ts';
import { cellValue } from './cell-value.ts';
import { html, type SafeHtml } from './html.ts';
import { dataTable } from './table.ts';

/** The gate's verdict on a function, in words. */
export function gateVerdict(p: Proposal): SafeHtml {
  return p.gate.accepted
    ? html`<span class="ok">accepted</span>`
    : html`<span class="refused">refused: ${p.gate.reason}</span> ${p.gate.detail}`;
}

/** The guards that fired on the cells a function does not fix (`failures`), as `guard × n`. */
export function failuresText(failures: Record<string, number>): string {
  const fired = Object.entries(failures).filter(([, n]) => n > 0);
  return fired.length === 0 ? '—' : fired.map(([guard, n]) => `${guard} × ${n}`).join(', ');
}

/** Before and after of sample cells of one proposal (a function writing several columns shows each output). */
export function examplesTable(p: Proposal): SafeHtml {
  const rows = p.examples.map((e) => [
    cellValue(e.before),
    html`${e.after.map((a, i) => html`${i > 0 ? ' | ' : ''}${cellValue(a)}`)}`,
    e.verdict,
  ]);
  return dataTable(['before', 'after', 'verdict'], rows);
}

/** The measured proposals (`#proposals`): gate verdict, pass rate on every cell, the guards that fired; then each one's source and before/after. */
export function proposalsTable(proposals: Proposal[]): SafeHtml {
  if (proposals.length === 0) return html`<p id="no-proposals">No proposal passes any cell.</p>`;
  const rows = proposals.map((p) => [
    html`<code>${p.name}</code>`,
    p.origin,
    gateVerdict(p),
    `${p.passed} of ${p.cells}`,
    `${(p.pass_rate * 100).toFixed(1)}%`,
    failuresText(p.failures),
    p.stopped ?? '—',
  ]);
  const details = proposals.map(
    (p) => html`<details class="proposal" data-name="${p.name}"><summary><code>${p.name}</code>: source and before/after</summary>
<pre>
${p.source}</pre>
${examplesTable(p)}</details>`,
  );
  return html`${dataTable(['proposal', 'origin', 'gate', 'passed', 'pass rate', 'guards that fired', 'stopped by'], rows, 'proposals')}
${details}`;
}
