import { describe, expect, it } from 'vitest';
import type { BatchReport } from '../../lib/reconcile/batch-report.ts';
import type { ClusterEvidence } from '../../lib/review/cluster-evidence.ts';
import { batchPage } from '../../lib/review/pages/batch-page.ts';
import { clusterPage } from '../../lib/review/pages/cluster-page.ts';
import { conflictPage } from '../../lib/review/pages/conflict-page.ts';
import { escapeHtml, html } from '../../lib/review/pages/html.ts';
import { overviewPage } from '../../lib/review/pages/overview-page.ts';
import { rowLanes } from '../../lib/review/pages/row-lanes.ts';
import type { BatchStatusView, StreamView } from '../../lib/review/pages/views.ts';
import type { Proposal } from '../../lib/review/proposal.ts';
import type { ReviewDecision } from '../../lib/vault/review-decision.ts';

const EVIL = '<img src=x onerror=alert(1)>';
const ESCAPED = '&lt;img src=x onerror=alert(1)&gt;';
const BATCH = 'orders-0123456789abcdef0123';
const CLUSTER = 'c-00000000000000aa';
const TOKEN = 'operator-token-0123456789';

/** The page holds the hostile value only escaped, and no markup of it at all. */
function expectEscaped(page: string) {
  expect(page).not.toContain(EVIL);
  expect(page).not.toMatch(/<img|<script|onerror=alert\(1\)>/i);
  expect(page).toContain(ESCAPED);
}

const status = (over: Partial<BatchStatusView> = {}): BatchStatusView => ({
  batch: BATCH,
  stream: 'orders',
  stage: 'waiting-for-review',
  revision: 0,
  results: { done: 3, of: 3 },
  waiting_for_review: [{ cluster: CLUSTER, column: EVIL, rule: 'date', disposition: 'needs-review', cells: 7, decision: null }],
  rows: { source: 100, clean: 80, fixed: 12, quarantined: 8 },
  stream_state: { state: 'running', reason: null },
  ...over,
});

const report: BatchReport = {
  batch: BATCH,
  stream: 'orders',
  status: 'promoted',
  as_of: '2026-01-01T00:00:00.000Z',
  stages: { source: 100, clean: 80, suspect: 20, fixed: 12, quarantined: 8, duplicates_collapsed: 0 },
  clusters: {
    count: 3,
    by_disposition: { fixed: 2, 'needs-review': 1 },
    by_tier: { synthesizer: 1, model: 1, review: 1 },
    patterns: [
      {
        cluster: 'c-00000000000000a1',
        column: 'amount',
        rule: 'number',
        cells: 9,
        disposition: 'fixed',
        tier: 'synthesizer',
        function: EVIL,
        confidence: 1,
        model_calls: 0,
      },
      {
        cluster: 'c-00000000000000a2',
        column: 'city',
        rule: 'enum',
        cells: 3,
        disposition: 'fixed',
        tier: 'model',
        function: 'f',
        confidence: 0.9,
        model_calls: 1,
      },
      {
        cluster: CLUSTER,
        column: EVIL,
        rule: 'date',
        cells: 7,
        disposition: 'needs-review',
        tier: 'review',
        function: null,
        confidence: 0.5,
        model_calls: 0,
      },
    ],
  },
  model_calls: { expected: 1, actual: 1 },
  model_call_reduction: 0.95,
  cluster_compression: 0.85,
  quarantine_reasons: { [EVIL]: 5, 'date: not a date': 3 },
  gates: [{ gate: EVIL, passed: true, failing_rows: 0, sample_row_ids: [] }],
  timings_ms: { ingest: {}, cluster: {}, reconcile: {} },
  outputs: { curated: 'curated/orders/x.parquet', audit: null, audit_root_hash: null },
};

const proposal = (name: string, over: Partial<Proposal> = {}): Proposal => ({
  name,
  source: `(v) => '${EVIL}' + v`,
  reads: ['ordered_at'],
  writes: ['ordered_at'],
  origin: 'synthesizer',
  gate: { accepted: true },
  cells: 7,
  passed: 6,
  pass_rate: 6 / 7,
  failures: { [EVIL]: 1 },
  examples: [{ before: EVIL, after: ['2026-01-31', null], verdict: 'ok' }],
  ...over,
});

const evidence = (over: Partial<ClusterEvidence> = {}): ClusterEvidence => ({
  batch: BATCH,
  stream: 'orders',
  cluster: CLUSTER,
  column: EVIL,
  rule: 'date',
  pii: false,
  cells: 7,
  shapes: [{ shape: EVIL, cells: 7 }],
  samples: [{ value: EVIL, shape: '99/99/9999', occurrences: 4 }],
  result: {
    disposition: 'needs-review',
    tier: 'review',
    confidence: 0.5,
    threshold: 0.75,
    reason: EVIL,
    tried: [{ name: EVIL, pass_rate: 0.5, gate: 'accepted' }],
    model: 'qwen',
    reasoning: [`round 1: ${EVIL}`],
  },
  ambiguous_with: 'date:d-m-y / date:m-d-y',
  proposals: [
    proposal('date:d-m-y'),
    proposal('date:m-d-y'),
    proposal('refused-one', { gate: { accepted: false, reason: 'io', detail: EVIL }, passed: 0, pass_rate: 0 }),
  ],
  decision: null,
  reviewed: null,
  reviewable: { ok: true },
  ...over,
});

const decision: ReviewDecision = {
  schema_version: 1,
  batch: BATCH,
  stream: 'orders',
  cluster: CLUSTER,
  column: 'ordered_at',
  rule: 'date',
  action: 'choose',
  operator: 'alice',
  at: '2026-01-02T03:04:05.000Z',
  function: { name: 'date:d-m-y', source: EVIL, reads: [], writes: [] },
  measured: { cells: 7, passed: 6, pass_rate: 6 / 7, failures: {} },
  reason: EVIL,
  candidate: 'date:d-m-y',
};

const count = (page: string, pattern: RegExp) => (page.match(new RegExp(pattern, 'g')) ?? []).length;

describe('html', () => {
  it('escapes every interpolated value and passes markup built with html', () => {
    expect(escapeHtml(`"'&<>`)).toBe('&quot;&#39;&amp;&lt;&gt;');
    expect(html`<p title="${EVIL}">${[EVIL, html`<b>${1}</b>`]}${null}${undefined}</p>`.text).toBe(
      `<p title="${ESCAPED}">${ESCAPED}<b>1</b></p>`,
    );
  });
});

describe('overview page', () => {
  const streams: StreamView[] = [
    { stream: 'orders', state: 'halted', reason: EVIL, waiting_files: 2, batches: [status()] },
    { stream: 'users', state: 'running', reason: null, waiting_files: 0, batches: [] },
  ];

  it('shows each stream, its state and files waiting, and its batches with stage, lanes and links', () => {
    const page = overviewPage(streams);
    expectEscaped(page);
    expect(page).toContain('halted');
    expect(page).toContain('2 file(s) waiting');
    expect(page).toContain(`href="/review/batches/${BATCH}"`);
    expect(page).toContain(`href="/review/batches/${BATCH}/clusters/${CLUSTER}"`);
    expect(page).toContain('data-stage="waiting-for-review"');
    expect(page).toMatch(/<td>100<\/td><td>80<\/td><td>12<\/td><td>8<\/td>/);
    expect(page).toContain('No batches yet.');
  });

  it('labels remediating n of m, halted streams and decisions taken', () => {
    const remediating = status({
      stage: 'remediating',
      results: { done: 2, of: 5 },
      stream_state: { state: 'halted', reason: 'drift' },
      waiting_for_review: [
        {
          cluster: CLUSTER,
          column: 'c',
          rule: 'r',
          disposition: 'needs-review',
          cells: 1,
          decision: { action: 'reject', operator: 'bob', at: 't1', applied: false },
        },
      ],
    });
    const page = overviewPage([{ stream: 'orders', state: 'halted', reason: 'drift', waiting_files: 0, batches: [remediating] }]);
    expect(page).toContain('halted stream: remediating 2 of 5');
    expect(page).toContain('data-stage="halted"');
    expect(page).toContain('reject by bob at t1 (not applied yet)');
  });
});

describe('batch page', () => {
  it('shows the stage in #status, the rows as a chart and a table, and the clusters linked', () => {
    const page = batchPage({ status: status({ stage: 'promoted', revision: 1 }), report });
    expectEscaped(page);
    expect(page).toMatch(/<b id="status" class="promoted" data-stage="promoted">promoted \(revision 1\)<\/b>/);
    expect(page).toContain('<svg');
    expect(count(page, /<rect /)).toBe(rowLanes(report).length);
    expect(page).toContain('id="rows-table"');
    expect(page).toContain(`href="/review/batches/${BATCH}/clusters/${CLUSTER}"`);
    expect(page).toContain('needs-review');
  });

  it('splits fixed rows by tier and quarantined rows by reason, adding up to the source rows', () => {
    const lanes = rowLanes(report);
    expect(lanes.map((l) => [l.lane, l.detail])).toEqual([
      ['clean', null],
      ['fixed', 'synthesizer'],
      ['fixed', 'model'],
      ['quarantined', EVIL],
      ['quarantined', 'date: not a date'],
    ]);
    expect(lanes.reduce((s, l) => s + l.rows, 0)).toBe(100);
    expect(lanes.filter((l) => l.lane === 'fixed').map((l) => l.rows)).toEqual([9, 3]);
  });

  it('says when there is no report yet', () => {
    const page = batchPage({ status: status({ stage: 'remediating', results: { done: 1, of: 3 }, rows: null }), report: null });
    expect(page).toContain('id="no-report"');
    expect(page).toContain('remediating 1 of 3');
  });
});

describe('cluster page', () => {
  it('shows the evidence and proposals, every value escaped', () => {
    const page = clusterPage(evidence(), { token: TOKEN });
    expectEscaped(page);
    expect(page).toContain('id="proposals"');
    expect(page).toContain('id="tried"');
    expect(page).toContain('id="reasoning"');
    expect(page).toContain(`${ESCAPED} × 1`);
    expect(page).toContain('refused: io');
  });

  it('has one approve form per usable proposal, a choose button per rival reading, edit and reject', () => {
    const page = clusterPage(evidence(), { token: TOKEN });
    expect(count(page, /<form class="approve" method="post"/)).toBe(2);
    expect(page).toContain('<input type="hidden" name="candidate" value="date:d-m-y">');
    expect(count(page, /<form class="choose"/)).toBe(1);
    expect(count(page, /<button type="submit" name="candidate" value="date:[dm]-[dm]-y">/)).toBe(2);
    expect(page).toContain(`Choose date:d-m-y: ${ESCAPED} → 2026-01-31 | null`);
    expect(count(page, /<form class="edit"/)).toBe(1);
    expect(count(page, /<form class="reject"/)).toBe(1);
    expect(page).toMatch(/<input type="text" name="reason" required/);
    const forms = count(page, /<form /);
    expect(forms).toBe(5);
    expect(count(page, new RegExp(`<input type="hidden" name="token" value="${TOKEN}">`))).toBe(forms);
    expect(count(page, /<input type="text" name="operator" required/)).toBe(forms);
    expect(page).toContain(`method="post" action="/review/batches/${BATCH}/clusters/${CLUSTER}"`);
  });

  it("shows a dependency cluster's evidence figures (rules escaped), and no such table for other clusters", () => {
    const base = evidence();
    const dependency = {
      rules: [EVIL],
      determinant: ['zip'],
      lookup_sha256: 'ab'.repeat(32),
      groups: 3,
      contested_groups: 1,
      cells: 9,
      min_share: 0.6,
      mean_share: 0.8,
      min_support: 2,
      min_margin: 0.25,
    };
    const page = clusterPage({ ...base, result: { ...base.result!, dependency } }, { token: TOKEN });
    expectEscaped(page);
    const table = page.slice(page.indexOf('id="dependency-evidence"'));
    expect(table).toContain(ESCAPED);
    expect(table).toContain('ab'.repeat(32));
    expect(table).toMatch(/<td>3<\/td><td>1<\/td><td>9<\/td><td>0\.60<\/td><td>0\.80<\/td><td>2<\/td><td>0\.25<\/td>/);
    expect(clusterPage(base, { token: TOKEN })).not.toContain('id="dependency-evidence"');
  });

  it('shows no choose form for a cluster that is not ambiguous', () => {
    const { ambiguous_with: _, ...plain } = evidence();
    expect(clusterPage(plain, { token: TOKEN })).not.toContain('class="choose"');
  });

  it('shows the decision in #decision and no forms once decided', () => {
    const page = clusterPage(evidence({ decision, reviewable: { ok: false, why: 'already decided' } }), { token: TOKEN });
    expectEscaped(page);
    expect(page).toContain('<section id="decision" data-action="choose">');
    expect(page).toContain('alice');
    expect(page).toContain('2026-01-02T03:04:05.000Z');
    expect(page).toContain('id="not-reviewable"');
    expect(page).not.toContain('<form');
  });

  it('shows an edit measured in #preview with a confirm form, and a refusal in #refused', () => {
    const edited = proposal('operator:edit', { origin: 'operator' });
    const preview = clusterPage(evidence(), { token: TOKEN, operator: 'alice', outcome: { status: 'preview', measured: edited } });
    expectEscaped(preview);
    expect(preview).toContain('<section id="preview">');
    expect(preview).toMatch(/<form class="confirm"[^]*name="confirm" value="1"[^]*<\/form>/);
    expect(preview).toContain('value="alice"');
    const refused = clusterPage(evidence(), {
      token: TOKEN,
      outcome: { status: 'refused', reason: EVIL, measured: null, source: 'x => x' },
    });
    expectEscaped(refused);
    expect(refused).toContain('<section id="refused" class="refused">');
    expect(refused).toContain('maxlength="20000">\nx =&gt; x</textarea>');
  });

  it('names who decided first on a conflict', () => {
    const page = conflictPage(decision);
    expectEscaped(page);
    expect(page).toContain('alice decided this cluster first (choose at 2026-01-02T03:04:05.000Z)');
  });
});
