import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { loadContract, registerContract } from '../../lib/contract/registry.ts';
import { listProposals } from '../../lib/contract/schema-proposals.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { literal } from '../../lib/engine/sql.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { adoptProposal } from '../../lib/streams/decide-schema.ts';
import { streamState } from '../../lib/streams/stream-control.ts';
import { ReconcileManifestSchema, type ReconcileManifest } from '../../lib/vault/reconcile-manifest.ts';
import { TEST_STACK_ENV } from '../support/test-stack-env.ts';
import { eventually, manifestOf, readText, s3, stack, upload, vaultStore } from '../support/vault.ts';

/**
 * Schema evolution by policy on the real stack (RGW with Object Lock, its upload notifications,
 * serverless-offline, the review page in a real Chromium): a file with one extra nullable column
 * is promoted with that column under `additive` and leaves a proposed version; the same file halts
 * a `strict` stream, and adopting its proposal on the review page resumes it; rejecting one
 * quarantines the file and lets the stream go on; a removed column halts under every policy;
 * adopting the proposal makes the next file clean. Each stream is
 * new per run (the registry keeps its versions).
 */
const run = randomUUID().slice(0, 8);
const TOKEN = TEST_STACK_ENV['OPERATOR_TOKEN']!;
const BASE = `http://127.0.0.1:${TEST_STACK_ENV['OFFLINE_HTTP_PORT']}/review`;
const ARTIFACTS = resolve('.stack/test/artifacts');

let browser: Browser;
let page: Page;
beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(30_000);
  // The token cookie for the pages opened later.
  await page.goto(`${BASE}?token=${TOKEN}`);
}, 60_000);
afterAll(async () => {
  await browser?.close();
});
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const contract = (stream: string, evolution: string) => ({
  stream,
  version: 1,
  evolution,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
  ],
});
/** Unique rows per call: every upload is a batch of its own. */
const extraColumn = () => `id,amount,note\n1,1.00,first ${randomUUID()}\n2,2.50,\n`;

async function reconciled(batch: string): Promise<ReconcileManifest> {
  const text = await eventually(`reconcile of ${batch}`, () => readText(keys.reconcileManifest(batch)), 120_000);
  return ReconcileManifestSchema.parse(JSON.parse(text));
}

/** Reads Parquet objects of the vault as one table, their columns unioned by name (how a reader spans contract versions). */
async function unionByName(objectKeys: string[], sql: string): Promise<Record<string, unknown>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vm-evo-'));
  const engine = await Engine.open({ memoryLimit: '256MB', threads: 1, spillDir: join(dir, 'spill') });
  try {
    const paths = await Promise.all(
      objectKeys.map(async (key, i) => {
        const out = await s3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: key }));
        const path = join(dir, `${i}.parquet`);
        writeFileSync(path, await out.Body!.transformToByteArray());
        return literal(path);
      }),
    );
    await engine.run(`CREATE VIEW t AS SELECT * FROM read_parquet([${paths.join(', ')}], union_by_name = true)`);
    return await engine.rows(sql);
  } finally {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const driftReport = async (stream: string, batch: string) =>
  JSON.parse(await eventually(`the drift report of ${batch}`, () => readText(keys.driftReport(stream, batch))));

/** A new strict stream that a file with one extra column halted: the file's batch and the drift report. */
async function haltedByExtraColumn(stream: string) {
  await registerContract(vaultStore(), contract(stream, 'strict'));
  const extra = extraColumn();
  await upload(`raw/${stream}/extra.csv`, extra);
  const batch = batchId(stream, sha256(extra));
  return { batch, report: await driftReport(stream, batch) };
}

describe('schema evolution by policy (real stack)', () => {
  it('additive: an extra nullable column is promoted with the column and a proposed version; adopting it makes the next file clean', async () => {
    const stream = `evo-add-${run}`;
    const store = vaultStore();
    await registerContract(store, contract(stream, 'additive'));
    const before = `id,amount\n10,9.99\n11,${(Date.now() % 100) + 0.25}\n`;
    await upload(`raw/${stream}/before.csv`, before);
    const beforeBatch = batchId(stream, sha256(before));
    const first = await reconciled(beforeBatch);

    const extra = extraColumn();
    await upload(`raw/${stream}/extra.csv`, extra);
    const batch = batchId(stream, sha256(extra));
    const ingest = await manifestOf(batch);
    const [proposal] = await listProposals(store, stream);
    expect(proposal?.verdict).toMatchObject({ policy: 'additive', accepted: true, rule: 'additive: nullable column added' });
    expect(ingest.contract).toMatchObject({ registry_version: 1, proposal: proposal?.id });
    const promoted = await reconciled(batch);
    expect(promoted.status).toBe('promoted');
    expect(await store.exists(keys.schemaProposal(stream, proposal?.id ?? ''))).toBe(true);
    expect((await streamState(store, stream)).state).toBe('running');

    // The curated output carries the new column; the earlier one reads beside it, unioned by name.
    const rows = await unionByName([first.curated!, promoted.curated!], 'SELECT id, amount::VARCHAR AS amount, note FROM t ORDER BY id');
    expect(rows.map((r) => [r['id'], r['note'] === null ? null : String(r['note']).split(' ')[0]])).toEqual([
      ['1', 'first'],
      ['2', null],
      ['10', null],
      ['11', null],
    ]);

    const adopted = await adoptProposal(store, stream, proposal?.id ?? '', { by: 'integration' });
    expect(adopted.registry_version).toBe(2);
    expect((await loadContract(store, stream))?.contract.columns.map((c) => c.name)).toEqual(['id', 'amount', 'note']);
    const next = `id,amount,note\n3,3.00,third ${randomUUID()}\n`;
    await upload(`raw/${stream}/next.csv`, next);
    const clean = await manifestOf(batchId(stream, sha256(next)));
    expect(clean.contract).toMatchObject({ registry_version: 2 });
    expect(clean.contract.proposal).toBeUndefined();
    expect(clean.rows).toMatchObject({ source: 1, clean: 1, suspect: 0 });
    expect(await listProposals(store, stream)).toHaveLength(1);
  });

  it('strict: the same file halts the stream with the rule and the ways out; adopted on the review page (Chromium), the stream resumes and the file is ingested', async () => {
    const stream = `evo-strict-${run}`;
    const store = vaultStore();
    const { batch, report } = await haltedByExtraColumn(stream);
    expect(report).toMatchObject({ policy: 'strict', rule: 'strict: nullable column added' });
    expect(report.actions.map((a: { action: string }) => a.action)).toEqual(['adopt', 'resume', 'reject']);
    expect((await streamState(store, stream)).state).toBe('halted');
    expect(await readText(keys.ingestManifest(batch))).toBeUndefined();

    await page.goto(`${BASE}?token=${TOKEN}`);
    await page.click(`a.open-proposals[href$="/streams/${stream}/proposals"]`);
    const section = page.locator(`#proposal-${report.proposal.id}`);
    expect(await section.textContent()).toContain('strict: nullable column added');
    const adopt = section.locator('form.adopt');
    await adopt.locator('input[name=operator]').fill('alice');
    await adopt.locator('button[type=submit]').click();
    await expect.poll(() => section.getAttribute('data-state')).toBe('adopted');
    await page.screenshot({ path: `${ARTIFACTS}/schema-proposal-adopted.png`, fullPage: true });
    const ingest = await manifestOf(batch);
    expect(ingest.contract).toMatchObject({ registry_version: 2 });
    expect(ingest.rows).toMatchObject({ source: 2, clean: 2 });
    expect((await streamState(store, stream)).state).toBe('running');
  });

  it('rejected on the review page, the halting file is quarantined whole and the stream goes on', async () => {
    const stream = `evo-reject-${run}`;
    const store = vaultStore();
    const { batch, report } = await haltedByExtraColumn(stream);
    await page.goto(`${BASE}/streams/${stream}/proposals`);
    const reject = page.locator(`#proposal-${report.proposal.id} form.reject`);
    await reject.locator('input[name=operator]').fill('bob');
    await reject.locator('input[name=reason]').fill('the source must not send notes');
    await reject.locator('button[type=submit]').click();
    await expect.poll(() => page.locator(`#proposal-${report.proposal.id}`).getAttribute('data-state')).toBe('rejected');
    const ingest = await manifestOf(batch);
    expect(ingest).toMatchObject({ status: 'quarantined', rejected: { reason: 'schema-rejected' } });
    expect((await streamState(store, stream)).state).toBe('running');
    const conforming = `id,amount\n7,${(Date.now() % 100) + 0.5}\n`;
    await upload(`raw/${stream}/conforming.csv`, conforming);
    expect((await manifestOf(batchId(stream, sha256(conforming)))).rows).toMatchObject({ clean: 1 });
  });

  it.each(['strict', 'additive', 'none'])('a removed column halts a %s stream', async (policy) => {
    const stream = `evo-rm-${policy}-${run}`;
    await registerContract(vaultStore(), contract(stream, policy));
    const removed = `id\n${Date.now() % 1000}\n`;
    await upload(`raw/${stream}/removed.csv`, removed);
    const report = await driftReport(stream, batchId(stream, sha256(removed)));
    expect(report).toMatchObject({ policy, rule: 'every policy: column removed', changes: [{ kind: 'removed', column: 'amount' }] });
    expect((await streamState(vaultStore(), stream)).state).toBe('halted');
  });
});
