import type { BatchReport } from '../../reconcile/batch-report.ts';

/** One part of a batch's rows: a lane (clean, fixed by one tier, quarantined for one reason) and its row count. */
export interface RowSegment {
  lane: 'clean' | 'fixed' | 'quarantined';
  /** The tier (fixed) or the reason (quarantined); null for clean. */
  detail: string | null;
  rows: number;
}

/** `total` split in proportion to `weights` (largest remainders, so the parts add up to `total` exactly). */
function apportion(total: number, weights: [string, number][]): [string, number][] {
  const sum = weights.reduce((s, [, w]) => s + w, 0);
  if (sum <= 0) return [];
  const exact = weights.map(([k, w]) => [k, (total * w) / sum] as const);
  const parts = exact.map(([k, x]) => [k, Math.floor(x)] as [string, number]);
  let left = total - parts.reduce((s, [, n]) => s + n, 0);
  const order = exact.map(([, x], i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) if (left-- > 0) parts[i]![1] += 1;
  return parts;
}

/**
 * Where a batch's rows went, for the chart and its table: the clean rows, the fixed rows split by
 * the tier of the clusters that fixed cells (in proportion to their cells), the quarantined rows
 * split by reason (in proportion to the reasons' counts).
 */
export function rowLanes(report: BatchReport): RowSegment[] {
  const byTier = new Map<string, number>();
  for (const p of report.clusters.patterns) {
    if (p.disposition === 'fixed' || p.disposition === 'partly-fixed') byTier.set(p.tier, (byTier.get(p.tier) ?? 0) + p.cells);
  }
  const fixed = apportion(report.stages.fixed, [...byTier]);
  const reasons = apportion(report.stages.quarantined, Object.entries(report.quarantine_reasons));
  const orUnsplit = (parts: [string, number][], total: number) => (parts.length > 0 ? parts : [['—', total] as [string, number]]);
  return [
    { lane: 'clean' as const, detail: null, rows: report.stages.clean },
    ...orUnsplit(fixed, report.stages.fixed).map(([tier, rows]) => ({ lane: 'fixed' as const, detail: tier, rows })),
    ...orUnsplit(reasons, report.stages.quarantined).map(([reason, rows]) => ({ lane: 'quarantined' as const, detail: reason, rows })),
  ].filter((s) => s.rows > 0);
}
