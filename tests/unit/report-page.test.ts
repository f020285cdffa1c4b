import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { reportPage, type BatchReport } from '../../lib/reconcile/batch-report.ts';

/** The batch report page in a real Chromium (Debian's, driven by playwright-core). */
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

const report: BatchReport = {
  batch: 'shop-0123456789abcdef0123',
  stream: 'shop',
  status: 'gates-failed',
  as_of: '2026-11-23T12:00:00.000Z',
  stages: { source: 10, clean: 6, suspect: 4, fixed: 3, quarantined: 1, duplicates_collapsed: 0 },
  clusters: {
    count: 2,
    by_disposition: { fixed: 1, 'needs-review': 1 },
    by_tier: { synthesizer: 1, review: 1 },
    patterns: [
      {
        cluster: 'c-0000000000000001',
        column: 'amount',
        rule: 'type',
        cells: 3,
        disposition: 'fixed',
        tier: 'model',
        function: `model:${HOSTILE}`,
        confidence: 0.9,
        model_calls: 2,
      },
      {
        cluster: 'c-0000000000000002',
        column: 'code',
        rule: 'pattern',
        cells: 1,
        disposition: 'needs-review',
        tier: 'review',
        function: null,
        confidence: 0,
        model_calls: 0,
      },
    ],
  },
  model_calls: { expected: 2, actual: 2 },
  model_call_reduction: 0.5,
  cluster_compression: 0.75,
  quarantine_reasons: { 'needs-review': 1 },
  gates: [
    { gate: 'unique:email', passed: false, failing_rows: 2, sample_row_ids: [4, 7] },
    { gate: 'row_count', passed: true, failing_rows: 0, sample_row_ids: [], detail: 'ok' },
  ],
  timings_ms: { ingest: { total: 12 }, cluster: { total: 5 }, reconcile: { total: 30 } },
  outputs: { curated: null, audit: 'audit/shop/shop-0123456789abcdef0123.jsonl', audit_root_hash: 'ab'.repeat(32) },
};

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('the batch report page', () => {
  it('shows the status, stages, patterns and failing gates', async () => {
    const page = await browser.newPage();
    await page.setContent(reportPage(report), { timeout: 10_000 });
    expect(await page.textContent('#status')).toBe('gates-failed');
    expect(await page.locator('table').count()).toBe(6);
    const gateRow = page.locator('tr', { hasText: 'unique:email' });
    expect(await gateRow.textContent()).toContain('NO');
    expect(await gateRow.textContent()).toContain('4 7');
    expect(await page.locator('h1').textContent()).toContain(report.batch);
    await page.close();
  });

  it('renders hostile text as text: no script runs, no element is injected', async () => {
    const page = await browser.newPage();
    await page.setContent(reportPage(report), { timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('td', { hasText: '<script>' }).count()).toBe(1);
    await page.close();
  });
});
