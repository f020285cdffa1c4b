import { html, type SafeHtml } from './html.ts';

/** A cell's value as the pages show it: in `<code>` (escaped), null as a marked `null`. */
export function cellValue(value: string | null): SafeHtml {
  return value === null ? html`<i class="null">null</i>` : html`<code>${value}</code>`;
}
