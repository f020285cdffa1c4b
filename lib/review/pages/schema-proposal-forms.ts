import { formStart, type FormContext } from './form-fields.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * The forms of an open schema proposal, as the cluster decision forms are built (the page's token,
 * the operator's name): adopt (a button) and reject (a reason is required).
 */
export function schemaProposalForms(ctx: FormContext): SafeHtml {
  return html`<div class="decide">
${formStart('adopt', ctx)}
<button type="submit">Adopt</button>
</form>
${formStart('reject', ctx)}
<label>reason <input type="text" name="reason" required maxlength="2000"></label>
<button type="submit">Reject</button>
</form>
</div>`;
}
