import type { BatchReport } from '../../reconcile/batch-report.ts';
import { html, type SafeHtml } from './html.ts';
import { rowLanes, type RowSegment } from './row-lanes.ts';
import { dataTable } from './table.ts';

const PALETTE = {
  clean: ['#2e7d32'],
  fixed: ['#1565c0', '#42a5f5', '#5c6bc0', '#26a69a', '#7e57c2'],
  quarantined: ['#c62828', '#ef6c00', '#ad1457', '#f9a825', '#6d4c41'],
};
const WIDTH = 1000;

const colourOf = (segments: RowSegment[], i: number) => {
  const s = segments[i]!;
  const nth = segments.slice(0, i).filter((o) => o.lane === s.lane).length;
  const colours = PALETTE[s.lane];
  return colours[nth % colours.length]!;
};
const nameOf = (s: RowSegment) => (s.detail ? `${s.lane} · ${s.detail}` : s.lane);

/**
 * Where a batch's rows went: an inline SVG horizontal stacked bar (clean, fixed by tier,
 * quarantined by reason) and the same numbers as a table, so the page says it without the picture.
 */
export function rowsChart(report: BatchReport): SafeHtml {
  const segments = rowLanes(report);
  const total = segments.reduce((sum, s) => sum + s.rows, 0);
  let x = 0;
  const rects = segments.map((s, i) => {
    const width = total > 0 ? (s.rows / total) * WIDTH : 0;
    const rect = html`<rect x="${x.toFixed(2)}" y="0" width="${width.toFixed(2)}" height="40" fill="${colourOf(segments, i)}"><title>${nameOf(s)}: ${s.rows} row(s)</title></rect>`;
    x += width;
    return rect;
  });
  const rows = segments.map((s, i) => [
    html`<span class="swatch" style="background:${colourOf(segments, i)}"></span>${s.lane}`,
    s.detail ?? '—',
    s.rows,
    total > 0 ? `${((s.rows / total) * 100).toFixed(1)}%` : '—',
  ]);
  return html`<figure id="rows-chart">
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} 40" width="100%" height="40" preserveAspectRatio="none" role="img" aria-label="rows per lane">${rects}</svg>
<figcaption>${report.stages.source} source row(s); fixed rows split by the tier of the clusters that fixed cells (by cells), quarantined rows by reason.</figcaption>
</figure>
${dataTable(['lane', 'tier or reason', 'rows', 'share'], rows, 'rows-table')}`;
}
