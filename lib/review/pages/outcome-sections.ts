import type { Proposal } from '../proposal.ts';
import { formStart, type FormContext } from './form-fields.ts';
import { html, type SafeHtml } from './html.ts';
import { examplesTable, failuresText, gateVerdict } from './proposals-table.ts';

function measurement(p: Proposal): SafeHtml {
  return html`<p>Gate ${gateVerdict(p)} · ${p.passed} of ${p.cells} cell(s) pass (${(p.pass_rate * 100).toFixed(1)}%) · guards that fired: ${failuresText(p.failures)}${p.stopped ? html` · stopped by ${p.stopped}` : ''}</p>
${examplesTable(p)}`;
}

/** An edited function measured and nothing written (`#preview`), with the form that confirms it (`form.confirm`, confirm=1). */
export function previewSection(measured: Proposal, ctx: FormContext, note?: string): SafeHtml {
  return html`<section id="preview">
<h2>Measured: your edited function (nothing is written yet)</h2>
${measurement(measured)}
${formStart('confirm', ctx)}
<input type="hidden" name="source" value="${measured.source}">
<input type="hidden" name="confirm" value="1">
<input type="hidden" name="note" value="${note ?? ''}">
<button type="submit">Confirm and approve this function</button>
</form>
</section>`;
}

/** A decision the domain refused, and why (`#refused`): nothing was written. */
export function refusedSection(reason: string, measured: Proposal | null): SafeHtml {
  return html`<section id="refused" class="refused">
<h2>Refused: nothing was written</h2>
<p class="reason">${reason}</p>
${measured ? measurement(measured) : ''}
</section>`;
}
