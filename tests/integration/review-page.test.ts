import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { batchStatus } from '../../lib/operators/batch-status.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { findObject } from '../../lib/vault/vault-object.ts';
import { TEST_STACK_ENV } from '../support/test-stack-env.ts';
import { eventually, readParquet, readText, upload, vaultStore } from '../support/vault.ts';

/**
 * The review loop in a real Chromium against the real stack: the review page (an HTTP function
 * of serverless-offline) opened with the operator token; the example file's date 11/04/2026, which
 * reads two ways, found waiting for review; an edited function the gate refuses shown refused with
 * nothing written; the day-month reading chosen; and the batch seen complete — the row in a
 * curated part, the audit chain of two objects verified, its line at tier operator — and then the
 * next file with the pattern fixed at the registry tier with no model call. Screenshots go to
 * .stack/test/artifacts (not committed).
 */
const TOKEN = TEST_STACK_ENV['OPERATOR_TOKEN']!;
const BASE = `http://127.0.0.1:${TEST_STACK_ENV['OFFLINE_HTTP_PORT']}/review`;
const ARTIFACTS = resolve('.stack/test/artifacts');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const tag = String(10_000 + Math.floor(Math.random() * 80_000));
const CSV = `order_id,customer,email,amount,ordered_at,note\n${tag}1,Ada Lovelace,ada@example.org,12.50,2026-11-01,first order\n${tag}4,Edsger Dijkstra,edsger@example.org,N/A,11/04/2026,\n`;
const BATCH = batchId('orders', sha256(CSV));

let browser: Browser;
let page: Page;
beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(30_000);
  await upload(`raw/orders/review-${tag}.csv`, CSV);
  await eventually('the first reconcile of the batch', () => findObject(vaultStore(), vaultObjects.reconcileManifest.at(BATCH)), 180_000);
}, 240_000);
afterAll(async () => {
  await browser?.close();
});

const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

describe('the review page', () => {
  it('serves nothing without the token', async () => {
    for (const path of ['', `/batches/${BATCH}`]) {
      const response = await fetch(`${BASE}${path}`, { signal: AbortSignal.timeout(10_000) });
      expect(response.status).toBe(401);
      const body = await response.text();
      expect(body).not.toContain(BATCH);
      expect(body).not.toContain('orders');
    }
    const wrong = await fetch(`${BASE}?token=${'x'.repeat(32)}`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    expect(wrong.status).toBe(401);
  });

  it('finds the date cluster waiting, shows a refused edit refused, and closes the batch with the chosen reading', async () => {
    await page.goto(`${BASE}?token=${TOKEN}`);
    await page.click(`a[href$="/batches/${BATCH}"]`);
    expect(await page.textContent('#status')).toContain('waiting-for-review');
    const waiting = (await batchStatus(vaultStore(), BATCH)).waiting_for_review;
    const date = waiting.find((w) => w.column === 'ordered_at')!;
    expect(date).toBeDefined();
    await page.click(`a[href$="/clusters/${date.cluster}"]`);
    await expect.poll(() => page.locator('#proposals').count()).toBe(1);
    await shot('review-cluster');

    // An edited function the gate refuses: shown refused, nothing written.
    const edit = page.locator('form.edit');
    await edit.locator('input[name=operator]').fill('alice');
    await edit.locator('textarea[name=source]').fill('x => globalThis.process.exit(1)');
    await edit.locator('[type=submit]').click();
    expect(await page.locator('#refused').textContent()).toMatch(/refused/i);
    await shot('review-refused');
    expect(await vaultStore().exists(keys.review(BATCH, date.cluster))).toBe(false);

    // Choose the day-month reading.
    await page.goto(`${BASE}/batches/${BATCH}/clusters/${date.cluster}`);
    const choose = page.locator('form.choose');
    await choose.locator('input[name=operator]').fill('alice');
    await choose.locator('button[value="date:d-m-y"]').click();
    await expect.poll(() => page.locator('#decision').count()).toBe(1);
    expect(await page.textContent('#decision')).toContain('alice');

    const status = await eventually(
      'the batch revised and promoted',
      async () => {
        const s = await batchStatus(vaultStore(), BATCH);
        return s.stage === 'promoted' && s.revision === 1 ? s : undefined;
      },
      180_000,
    );
    expect(status.rows).toEqual({ source: 2, clean: 1, fixed: 1, quarantined: 0 });
    await page.goto(`${BASE}/batches/${BATCH}`);
    expect(await page.textContent('#status')).toContain('promoted');
    await shot('review-batch-promoted');

    // The row is in the revision's curated part, and only there.
    const revision = (await findObject(vaultStore(), vaultObjects.revisionManifest.at(BATCH, 1)))!;
    const part = await readParquet<{ order_id: number; ordered_at: string; amount: string | null }>(
      revision.curated!,
      'SELECT order_id, CAST(ordered_at AS VARCHAR) AS ordered_at, CAST(amount AS VARCHAR) AS amount FROM t ORDER BY order_id',
    );
    expect(part.map((r) => [String(r.order_id), r.ordered_at, r.amount])).toEqual([[`${tag}4`, '2026-04-11', null]]);
    const first = await readParquet<{ order_id: number }>(revision.curated_parts![0]!, 'SELECT order_id FROM t');
    expect(first.map((r) => String(r.order_id))).toEqual([`${tag}1`]);

    // The audit: two objects, chained, locked, verified; the date's line at tier operator, by alice.
    const verdict = await verifyBatchAudit(vaultStore(), BATCH);
    expect(verdict.ok).toBe(true);
    expect(verdict.objects).toHaveLength(2);
    expect(verdict.objects.every((o) => o.retention.mode === 'COMPLIANCE')).toBe(true);
    const lines = (await readText(keys.auditRevision('orders', BATCH, 1)))!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual(expect.objectContaining({ column: 'ordered_at', tier: 'operator', operator: 'alice', new: '2026-04-11' }));
  }, 420_000);

  it('fixes the next file with the pattern at the registry tier, with no model call', async () => {
    const csv = `order_id,customer,email,amount,ordered_at,note\n${tag}7,Barbara Liskov,barbara@example.org,3.00,12/05/2026,\n`;
    const batch = batchId('orders', sha256(csv));
    await upload(`raw/orders/review-next-${tag}.csv`, csv);
    const manifest = await eventually(
      'the next batch reconciled',
      () => findObject(vaultStore(), vaultObjects.reconcileManifest.at(batch)),
      180_000,
    );
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 1, fixed: 1, quarantined: 0 }, model_calls: { actual: 0 } });
    expect(manifest.clusters.by_tier).toEqual({ registry: 1 });
  }, 240_000);
});
