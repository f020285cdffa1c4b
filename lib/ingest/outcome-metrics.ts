import type { IngestOutcome } from './ingest-object.ts';
import type { PartOutcome } from './ingest-part.ts';

export interface MetricPoint {
  name: string;
  value: number;
  dimensions: Record<string, string>;
}

/**
 * What an ingest outcome counts: one `IngestObjects` point per object (by outcome and reason,
 * so quarantined, refused and waiting objects are counted apart), and the batch's rows by
 * disposition. The handler publishes them (CloudWatch EMF through Powertools).
 */
export function outcomeMetrics(outcome: IngestOutcome | PartOutcome): MetricPoint[] {
  const reason =
    outcome.status === 'quarantined'
      ? (outcome.manifest.rejected?.reason ?? 'none')
      : outcome.status === 'refused' || outcome.status === 'waiting'
        ? outcome.reason
        : 'none';
  const points: MetricPoint[] = [{ name: 'IngestObjects', value: 1, dimensions: { outcome: outcome.status, reason } }];
  if (outcome.status === 'ingested' && outcome.manifest.rows) {
    const rows = outcome.manifest.rows;
    const byDisposition: Array<[string, number]> = [
      ['clean', rows.clean],
      ['suspect', rows.suspect],
      ['quarantined', rows.quarantined],
      ['collapsed', rows.duplicates_collapsed],
    ];
    for (const [disposition, value] of byDisposition) points.push({ name: 'IngestRows', value, dimensions: { disposition } });
  }
  return points;
}
