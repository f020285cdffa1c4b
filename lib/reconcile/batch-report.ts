import type { ClusterManifest } from '../vault/cluster-manifest.ts';
import type { IngestManifest } from '../vault/ingest-manifest.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import type { ReconcileManifest } from '../vault/reconcile-manifest.ts';

/**
 * The batch report, for people: `reports/<batch>.json` and a page of its own
 * (`reports/<batch>.html`). Counts per stage, the model-call reduction, the tiers used,
 * quarantine reasons, timings and the gates. It carries no row values.
 */
export interface BatchReport {
  batch: string;
  stream: string;
  status: ReconcileManifest['status'];
  as_of: string;
  stages: { source: number; clean: number; suspect: number; fixed: number; quarantined: number; duplicates_collapsed: number };
  clusters: ReconcileManifest['clusters'] & {
    patterns: {
      cluster: string;
      column: string;
      rule: string;
      cells: number;
      disposition: string;
      tier: string;
      function: string | null;
      confidence: number;
      model_calls: number;
    }[];
  };
  model_calls: ReconcileManifest['model_calls'];
  /** The reconcile manifest's `model_call_reduction`: 1 - model calls made / suspect rows. */
  model_call_reduction: number;
  /** The cluster manifest's `cluster_compression` (1 - clusters / suspect rows), when the batch was clustered. */
  cluster_compression: number | null;
  quarantine_reasons: Record<string, number>;
  gates: ReconcileManifest['gates'];
  timings_ms: { ingest: Record<string, number>; cluster: Record<string, number>; reconcile: Record<string, number> };
  outputs: { curated: string | null; audit: string | null; audit_root_hash: string | null };
}

/** The report of a reconciled batch, from its manifests and cluster results. */
export function buildReport(
  manifest: ReconcileManifest,
  ingest: IngestManifest,
  clusters: ClusterManifest | undefined,
  results: ClusterResult[],
  reconcileTimings: Record<string, number>,
): BatchReport {
  return {
    batch: manifest.batch,
    stream: manifest.stream,
    status: manifest.status,
    as_of: manifest.as_of,
    stages: {
      source: manifest.rows.source,
      clean: manifest.rows.clean,
      suspect: ingest.rows?.suspect ?? 0,
      fixed: manifest.rows.fixed,
      quarantined: manifest.rows.quarantined,
      duplicates_collapsed: ingest.rows?.duplicates_collapsed ?? 0,
    },
    clusters: {
      ...manifest.clusters,
      patterns: results.map((r) => ({
        cluster: r.cluster,
        column: r.column,
        rule: r.rule,
        cells: r.counts.cells,
        disposition: r.disposition,
        tier: r.tier,
        function: r.function?.name ?? null,
        confidence: r.confidence,
        model_calls: r.model_calls,
      })),
    },
    model_calls: manifest.model_calls,
    model_call_reduction: manifest.model_call_reduction,
    cluster_compression: clusters?.cluster_compression ?? null,
    quarantine_reasons: manifest.quarantine_reasons,
    gates: manifest.gates,
    timings_ms: { ingest: ingest.timings_ms, cluster: clusters?.timings_ms ?? {}, reconcile: reconcileTimings },
    outputs: { curated: manifest.curated, audit: manifest.audit?.key ?? null, audit_root_hash: manifest.audit?.root_hash ?? null },
  };
}

const escapeHtml = (value: unknown) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A share as an escaped percentage with two decimals. */
const percent = (share: number) => escapeHtml(`${(share * 100).toFixed(2)}%`);

function table(headers: string[], rows: unknown[][]): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A self-contained page (no scripts, no remote resources): every value escaped. */
export function reportPage(report: BatchReport): string {
  const s = report.stages;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vaultmend batch ${escapeHtml(report.batch)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}.promoted{color:#176317}.gates-failed,.data-loss{color:#a11}</style>
</head><body>
<h1>Batch <code>${escapeHtml(report.batch)}</code></h1>
<p>Stream <b>${escapeHtml(report.stream)}</b> · as of ${escapeHtml(report.as_of)} · status <b class="${escapeHtml(report.status)}" id="status">${escapeHtml(report.status)}</b></p>
<h2>Rows per stage</h2>
${table(['source', 'clean', 'suspect', 'fixed', 'quarantined', 'duplicates collapsed'], [[s.source, s.clean, s.suspect, s.fixed, s.quarantined, s.duplicates_collapsed]])}
<h2>Error patterns</h2>
<p>${escapeHtml(report.clusters.count)} cluster(s); model calls ${escapeHtml(report.model_calls.actual)} (at most ${escapeHtml(report.model_calls.expected)} expected before repairs); model-call reduction ${percent(report.model_call_reduction)} (1 - calls / suspect rows); cluster compression ${report.cluster_compression === null ? '—' : percent(report.cluster_compression)} (1 - clusters / suspect rows).</p>
${table(
  ['cluster', 'column', 'rule', 'cells', 'disposition', 'tier', 'function', 'confidence', 'model calls'],
  report.clusters.patterns.map((p) => [
    p.cluster,
    p.column,
    p.rule,
    p.cells,
    p.disposition,
    p.tier,
    p.function ?? '—',
    p.confidence.toFixed(2),
    p.model_calls,
  ]),
)}
<h2>Quarantine reasons</h2>
${table(['reason', 'rows'], Object.entries(report.quarantine_reasons))}
<h2>Promotion gates</h2>
${table(
  ['gate', 'passed', 'failing rows', 'sample row ids'],
  report.gates.map((g) => [g.gate, g.passed ? 'yes' : 'NO', g.failing_rows, g.sample_row_ids.join(' ')]),
)}
<h2>Timings (ms)</h2>
${table(
  ['step', 'timings'],
  Object.entries(report.timings_ms).map(([step, t]) => [
    step,
    Object.entries(t)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  ]),
)}
<h2>Outputs</h2>
${table(
  ['output', 'key'],
  [
    ['curated', report.outputs.curated ?? '— (not promoted)'],
    ['audit', report.outputs.audit ?? '—'],
    ['audit root hash', report.outputs.audit_root_hash ?? '—'],
  ],
)}
</body></html>
`;
}
