import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

/** A short page for an answer that is not a view (bad request, not found, conflict): a title, a message, and more markup if given. */
export function messagePage(title: string, message: string, more: SafeHtml = html``): string {
  return layout(title, html`<h1>${title}</h1>\n<p class="message">${message}</p>\n${more}`);
}
