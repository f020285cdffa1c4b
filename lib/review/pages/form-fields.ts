import { html, type SafeHtml } from './html.ts';

/** What every decision form carries: the page's token (a cookie alone does not authorise a POST) and the operator's name, remembered. */
export interface FormContext {
  /** Where the forms post (the cluster's page). */
  action: string;
  token: string;
  /** The operator's name as last submitted, to fill the field again. */
  operator?: string;
}

const OPERATOR_PATTERN = '[A-Za-z0-9][A-Za-z0-9._@\\-]{0,63}';

/** The start of a decision form: method, target, the hidden action and token, and the operator's name field. */
export function formStart(kind: string, ctx: FormContext): SafeHtml {
  return html`<form class="${kind}" method="post" action="${ctx.action}">
<input type="hidden" name="action" value="${kind === 'confirm' ? 'edit' : kind}">
<input type="hidden" name="token" value="${ctx.token}">
<label>operator <input type="text" name="operator" required maxlength="64" pattern="${OPERATOR_PATTERN}" autocomplete="username" value="${ctx.operator ?? ''}"></label>`;
}
