import type { BatchStatusView } from './views.ts';

/** The stages of a batch still held by its stream (a halted stream holds them). */
const IN_FLIGHT = new Set(['not-ingested', 'ingested', 'remediating', 'reconciling']);

/**
 * A batch's stage as the pages show it: its machine name (`data-stage`, a class) and a label.
 * Remediating shows n of m; a batch of a halted stream not yet reconciled shows `halted stream`.
 */
export function stageOf(status: BatchStatusView): { stage: string; label: string } {
  const base =
    status.stage === 'remediating' && status.results ? `remediating ${status.results.done} of ${status.results.of}` : status.stage;
  const revised = status.revision ? `${base} (revision ${status.revision})` : base;
  if (status.stream_state.state === 'halted' && IN_FLIGHT.has(status.stage)) return { stage: 'halted', label: `halted stream: ${revised}` };
  return { stage: status.stage, label: revised };
}
