import { html, type HtmlValue, type SafeHtml } from './html.ts';

/** A table of escaped cells (markup built with `html` passes as is); `id` names it for the browser tests. */
export function dataTable(headers: string[], rows: HtmlValue[][], id?: string): SafeHtml {
  const head = headers.map((h) => html`<th scope="col">${h}</th>`);
  const body = rows.map((row) => html`<tr>${row.map((cell) => html`<td>${cell}</td>`)}</tr>\n`);
  return html`<table${id ? html` id="${id}"` : ''}><thead><tr>${head}</tr></thead><tbody>
${body}</tbody></table>`;
}
