import { html, SafeHtml } from './html.ts';

const STYLE = new SafeHtml(
  [
    'body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem;line-height:1.4}',
    'table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}',
    'pre{background:#f5f5f5;padding:.5rem;overflow:auto;max-width:70rem}code{background:#f5f5f5}',
    'form{border:1px solid #ddd;padding:.6rem;margin:.5rem 0;display:inline-block;vertical-align:top}',
    'textarea{width:60rem;max-width:100%;font-family:monospace}',
    '.promoted,.ok{color:#176317}.gates-failed,.data-loss,.object-quarantined,.halted,.refused{color:#a11}',
    '.waiting-for-review,.revising{color:#8a5a00}#refused,#preview,#decision{border-left:4px solid;padding:.3rem .8rem;margin:1rem 0}',
    '.swatch{display:inline-block;width:.9rem;height:.9rem;margin-right:.4rem;vertical-align:middle}',
  ].join('\n'),
);

/**
 * A whole page around `body`: no scripts and no remote resources (the response's CSP forbids
 * both), a link back to the overview, and the title escaped.
 */
export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vaultmend · ${title}</title>
<style>${STYLE}</style>
</head><body>
<nav><a href="/review">vaultmend review</a></nav>
${body}
</body></html>
`.text;
}
