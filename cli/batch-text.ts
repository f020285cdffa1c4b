import type { BatchStatus } from '../lib/operators/batch-status.ts';
import type { StreamOverview } from '../lib/operators/overview.ts';
import { count, fields, indent, table } from './output.ts';

/** The revision of a batch's reconcile, when the status carries one (batches revised after operator decisions). */
export function revisionOf(status: BatchStatus): number | undefined {
  const revision = (status as { revision?: unknown }).revision;
  return typeof revision === 'number' && revision > 0 ? revision : undefined;
}

/** A batch's stage with its revision: `promoted`, `promoted (revision 2)`. */
export function stageText(status: BatchStatus): string {
  const revision = revisionOf(status);
  return revision === undefined ? status.stage : `${status.stage} (revision ${revision})`;
}

/** Rows per lane in one cell: `4: 3 clean, 1 fixed, 0 quarantined`. */
export function rowsText(rows: BatchStatus['rows']): string | undefined {
  return rows ? `${rows.source}: ${rows.clean} clean, ${rows.fixed} fixed, ${rows.quarantined} quarantined` : undefined;
}

/** Results in, of all clusters: `1/2`. */
export const resultsText = (results: BatchStatus['results']): string | undefined => (results ? `${results.done}/${results.of}` : undefined);

/** A cluster waiting for a person (needs-review) or for the model (llm-unavailable), with its batch. */
export type WaitingCluster = BatchStatus['waiting_for_review'][number] & { batch: string };

/** The clusters waiting of a batch, each with the batch's id. */
export const waitingOf = (status: BatchStatus): WaitingCluster[] => status.waiting_for_review.map((w) => ({ batch: status.batch, ...w }));

/** Clusters waiting for a person or the model, as a table (empty when none). */
export function reviewTable(waiting: WaitingCluster[]): string {
  if (waiting.length === 0) return '';
  const rows = waiting.map((w) => [w.batch, w.cluster, w.column, w.rule, w.disposition, w.cells]);
  return table(rows, ['batch', 'cluster', 'column', 'rule', 'waits for', 'cells']);
}

/** One batch's status as text: stage, results, rows, the stream's state and what waits for review. */
export function statusText(status: BatchStatus): string {
  const stream = status.stream_state;
  const head = fields([
    ['batch', status.batch],
    ['stream', `${status.stream} (${stream.state}${stream.reason ? `: ${stream.reason}` : ''})`],
    ['stage', stageText(status)],
    ['results', status.results ? `${status.results.done} of ${status.results.of} clusters` : undefined],
    ['rows', rowsText(status.rows)],
    ['review', status.waiting_for_review.length ? count(status.waiting_for_review.length, 'cluster') : undefined],
  ]);
  const review = reviewTable(waitingOf(status));
  return review ? `${head}\n${review}see one with: vaultmend review ${status.batch} CLUSTER\n` : head;
}

/** Every stream and its batches as text (`vaultmend status` without a batch). */
export function overviewText(streams: StreamOverview[]): string {
  if (streams.length === 0) return 'no stream has a contract yet (vaultmend contracts register FILE)\n';
  return streams
    .map((s) => {
      const head = `${s.stream}  ${s.state}${s.reason ? ` (${s.reason})` : ''}  ${count(s.waiting_files, 'file')} waiting  ${count(s.batches.length, 'batch', 'batches')}\n`;
      const rows = s.batches.map((b) => [
        b.batch,
        stageText(b),
        resultsText(b.results),
        rowsText(b.rows),
        b.waiting_for_review.length || '',
      ]);
      return head + (rows.length ? indent(table(rows, ['batch', 'stage', 'results', 'rows', 'review'])) : '');
    })
    .join('\n');
}
