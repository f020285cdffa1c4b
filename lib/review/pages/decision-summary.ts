import type { ClusterResult } from '../../vault/cluster-result.ts';
import type { ReviewDecision } from '../../vault/review-decision.ts';
import { html, type SafeHtml } from './html.ts';

function reviewedLine(reviewed: ClusterResult | null | undefined): SafeHtml {
  if (reviewed === undefined) return html``;
  if (!reviewed) return html`<p class="reviewed">Re-remediation with the decision is not in yet.</p>`;
  const c = reviewed.counts;
  return html`<p class="reviewed">Re-remediated: <b>${reviewed.disposition}</b> · tier ${reviewed.tier} · ${c.staged_cells} cell(s) staged, ${c.quarantined_cells} quarantined</p>`;
}

/** A decision taken on a cluster (`#decision`): what, by whom, when, the function and its measurement, and (when `reviewed` is given) the re-remediation once in. */
export function decisionSummary(decision: ReviewDecision, reviewed?: ClusterResult | null): SafeHtml {
  const m = decision.measured;
  return html`<section id="decision" data-action="${decision.action}">
<h2>Decided: <b>${decision.action}</b> by <b class="operator">${decision.operator}</b> at <time>${decision.at}</time></h2>
${
  decision.function
    ? html`<p>Function <code>${decision.function.name}</code>${decision.candidate ? html` (proposal <code>${decision.candidate}</code>)` : ''}</p><pre>
${decision.function.source}</pre>`
    : ''
}
${m ? html`<p>Measured: ${m.passed} of ${m.cells} cell(s) pass (${(m.pass_rate * 100).toFixed(1)}%)</p>` : ''}
${decision.reason ? html`<p class="reason">${decision.action === 'reject' ? 'Reason' : 'Note'}: ${decision.reason}</p>` : ''}
${reviewedLine(reviewed)}
</section>`;
}
