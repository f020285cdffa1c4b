import type { ClusterEvidence } from '../cluster-evidence.ts';
import type { Proposal } from '../proposal.ts';
import { formStart, type FormContext } from './form-fields.ts';
import { html, type SafeHtml } from './html.ts';

const note = html`<label>note <input type="text" name="note" maxlength="2000"></label>`;
const usable = (p: Proposal) => p.gate.accepted && p.passed > 0;
const percent = (p: Proposal) => `${(p.pass_rate * 100).toFixed(1)}%`;

function approveForms(proposals: Proposal[], ctx: FormContext): SafeHtml[] {
  return proposals.filter(usable).map(
    (p) => html`${formStart('approve', ctx)}
<input type="hidden" name="candidate" value="${p.name}">
${note}
<button type="submit">Approve ${p.name} (${p.passed} of ${p.cells} pass, ${percent(p)})</button>
</form>`,
  );
}

function sampleOf(p: Proposal | undefined): string {
  const e = p?.examples[0];
  return e ? `: ${e.before ?? 'null'} → ${e.after.map((a) => a ?? 'null').join(' | ')}` : '';
}

function chooseForm(evidence: ClusterEvidence, ctx: FormContext): SafeHtml {
  const rivals = (evidence.ambiguous_with ?? '').split(' / ').filter((n) => n !== '');
  if (rivals.length === 0) return html``;
  const buttons = rivals.map((name) => {
    const p = evidence.proposals.find((q) => q.name === name);
    return html`<button type="submit" name="candidate" value="${name}">Choose ${name}${sampleOf(p)}</button>`;
  });
  return html`${formStart('choose', ctx)}
<p>Two readings fit the data alike: choose one.</p>
${note}
${buttons}
</form>`;
}

function editForm(source: string, ctx: FormContext): SafeHtml {
  return html`${formStart('edit', ctx)}
<label>function source<br><textarea name="source" rows="12" required maxlength="20000">
${source}</textarea></label><br>
${note}
<button type="submit">Measure</button>
</form>`;
}

function rejectForm(ctx: FormContext): SafeHtml {
  return html`${formStart('reject', ctx)}
<label>reason <input type="text" name="reason" required maxlength="2000"></label>
<button type="submit">Reject</button>
</form>`;
}

/**
 * The decision forms of a reviewable cluster: approve (one per usable proposal), choose (one button per
 * rival reading, when ambiguous), edit (measured first, confirmed next) and reject (a reason is required).
 */
export function decisionForms(evidence: ClusterEvidence, ctx: FormContext, editedSource?: string): SafeHtml {
  const source = editedSource ?? evidence.proposals[0]?.source ?? '';
  return html`<section id="decide">
<h2>Decide</h2>
${chooseForm(evidence, ctx)}
${approveForms(evidence.proposals, ctx)}
<h3>Edit a function</h3>
${editForm(source, ctx)}
<h3>Reject</h3>
${rejectForm(ctx)}
</section>`;
}
