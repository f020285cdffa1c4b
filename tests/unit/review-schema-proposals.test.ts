import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evolveSchema } from '../../lib/contract/evolve-schema.ts';
import { loadContract, registerContract } from '../../lib/contract/registry.ts';
import { proposalDecision, proposeVersion, type SchemaProposal } from '../../lib/contract/schema-proposals.ts';
import type { SchemaColumn } from '../../lib/contract/schema-fingerprint.ts';
import type { ReviewContext } from '../../lib/review/http/context.ts';
import { ReviewHttpEventSchema, type ReviewHttpEvent } from '../../lib/review/http/event.ts';
import { handleReview } from '../../lib/review/http/router.ts';
import { vaultReviewService } from '../../lib/review/http/vault-service.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';

/** The review page's schema proposals: listed per stream, adopted or rejected through the forms, linked from the overview. */
const TOKEN = 'operator-token-0123456789';
const BATCH = 'orders-0123456789abcdef0123';
const PAGE = '/review/streams/orders/proposals';
const bearer = { authorization: `Bearer ${TOKEN}` };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const contract = {
  stream: 'orders',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'name', type: 'string' },
  ],
};
const withNote: SchemaColumn[] = [
  { name: 'id', type: 'text' },
  { name: 'name', type: 'text' },
  { name: 'note', type: 'text' },
];

function apiEvent(method: string, path: string, o: { headers?: Record<string, string>; body?: string } = {}): ReviewHttpEvent {
  return ReviewHttpEventSchema.parse({
    rawPath: path,
    headers: { host: '127.0.0.1:3000', ...o.headers },
    ...(o.body !== undefined ? { body: o.body } : {}),
    requestContext: { http: { method } },
  });
}
const get = (path: string) => apiEvent('GET', path, { headers: bearer });
const post = (id: string, fields: Record<string, string>) =>
  apiEvent('POST', `${PAGE}/${id}`, { headers: FORM, body: new URLSearchParams({ token: TOKEN, ...fields }).toString() });

let root: string;
let store: FileObjectStore;
let ctx: ReviewContext;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vaultmend-schema-review-'));
  store = new FileObjectStore(root);
  ctx = {
    service: vaultReviewService(store, () => {
      throw new Error('no review deps in this test');
    }),
    token: TOKEN,
  };
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** Registers `json` and writes the proposal `observed` makes over it, as a file `key` of BATCH would. */
async function propose(json: object, observed: SchemaColumn[], key: string, at = '2026-12-01T10:00:00Z'): Promise<SchemaProposal> {
  const registered = (await loadContract(store, (json as { stream: string }).stream)) ?? (await registerContract(store, json));
  const evolution = evolveSchema(registered.contract, observed);
  if (!evolution.proposed) throw new Error(`no proposal: ${evolution.invalid}`);
  const proposal = await proposeVersion(store, {
    suggested: { note: 'date' },
    registered,
    evolution: { ...evolution, proposed: evolution.proposed },
    batch: BATCH,
    key,
    at: new Date(at),
  });
  return proposal;
}

describe('schema proposals on the review page', () => {
  it('lists a proposal with its change and forms, adopts it (303), and refuses a second decision (409)', async () => {
    const proposal = await propose(contract, withNote, 'raw/orders/a.csv');
    const page = await handleReview(get(PAGE), ctx);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(proposal.id);
    expect(page.body).toMatch(/<td>added<\/td><td>note<\/td>/);
    expect(page.body).toContain("The first file's values suggest: <code>note</code> date");
    expect(page.body).toContain('raw/orders/a.csv');
    expect(page.body).toContain(`href="/review/batches/${BATCH}"`);
    expect(page.body).toContain('Policy <b>strict</b>');
    expect(page.body).toContain('not accepted');
    expect(page.body).toContain('data-state="open"');
    expect(page.body).toContain(`action="${PAGE}/${proposal.id}"`);
    expect(page.body).toContain('name="operator"');
    expect(page.body).toContain(`name="token" value="${TOKEN}"`);
    expect(page.body).toMatch(/name="reason" required/);

    const overview = await handleReview(get('/review'), ctx);
    expect(overview.body).toContain(`<a class="open-proposals" href="${PAGE}">1 schema proposal open</a>`);

    const adopted = await handleReview(post(proposal.id, { action: 'adopt', operator: 'alice' }), ctx);
    expect(adopted.statusCode).toBe(303);
    expect(adopted.headers['location']).toBe(PAGE);
    expect((await proposalDecision(store, 'orders', proposal.id))?.decision).toBe('adopted');
    const now = await loadContract(store, 'orders');
    expect(now?.registry_version).toBe(2);
    expect(now?.contract.columns.map((c) => c.name)).toContain('note');

    const after = await handleReview(get(PAGE), ctx);
    expect(after.body).toContain('data-state="adopted"');
    expect(after.body).toMatch(/<b class="adopted">adopted<\/b> by <b class="operator">alice<\/b>/);
    expect(after.body).not.toContain(`action="${PAGE}/${proposal.id}"`);
    expect((await handleReview(get('/review'), ctx)).body).toContain(`<a class="proposals" href="${PAGE}">schema proposals</a>`);

    const again = await handleReview(post(proposal.id, { action: 'reject', operator: 'bob', reason: 'too late' }), ctx);
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain(`schema proposal ${proposal.id} of orders was adopted by alice at`);
    expect((await proposalDecision(store, 'orders', proposal.id))?.decision).toBe('adopted');
  });

  it('rejects with a reason, shown on the page', async () => {
    const proposal = await propose(contract, withNote, 'raw/orders/a.csv');
    const rejected = await handleReview(post(proposal.id, { action: 'reject', operator: 'bob', reason: 'no <notes> here' }), ctx);
    expect(rejected.statusCode).toBe(303);
    const page = await handleReview(get(PAGE), ctx);
    expect(page.body).toContain('<b class="rejected">rejected</b> by <b class="operator">bob</b>');
    expect(page.body).toContain('no &lt;notes&gt; here');
    expect((await loadContract(store, 'orders'))?.registry_version).toBe(1);
  });

  it('answers 404 for an unknown proposal and 409 for a stale one', async () => {
    const first = await propose(contract, withNote, 'raw/orders/a.csv');
    const second = await propose(contract, [...withNote, { name: 'extra', type: 'text' }], 'raw/orders/b.csv', '2026-12-01T11:00:00Z');
    const unknown = await handleReview(post('0123456789abcdef', { action: 'adopt', operator: 'alice' }), ctx);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('stream orders has no schema proposal 0123456789abcdef');

    const page = await handleReview(get(PAGE), ctx);
    expect(page.body.indexOf(second.id)).toBeLessThan(page.body.indexOf(first.id)); // newest first
    expect((await handleReview(post(first.id, { action: 'adopt', operator: 'alice' }), ctx)).statusCode).toBe(303);
    const stale = await handleReview(post(second.id, { action: 'adopt', operator: 'alice' }), ctx);
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain(`schema proposal ${second.id} was made over version 1 of orders, which is at version 2 now`);
  });

  it('answers 400 naming what is missing, and writes nothing', async () => {
    const proposal = await propose(contract, withNote, 'raw/orders/a.csv');
    const noReason = await handleReview(post(proposal.id, { action: 'reject', operator: 'bob' }), ctx);
    expect(noReason.statusCode).toBe(400);
    expect(noReason.body).toContain('reason: is required');
    const blank = await handleReview(post(proposal.id, { action: 'reject', operator: 'bob', reason: '  ' }), ctx);
    expect(blank.body).toContain('reason: is required');
    const unknownAction = await handleReview(post(proposal.id, { action: 'merge', operator: 'bob' }), ctx);
    expect(unknownAction.statusCode).toBe(400);
    expect(unknownAction.body).toContain('action: must be adopt or reject');
    const noOperator = await handleReview(post(proposal.id, { action: 'adopt' }), ctx);
    expect(noOperator.statusCode).toBe(400);
    expect(noOperator.body).toContain('operator: is required');
    expect(await proposalDecision(store, 'orders', proposal.id)).toBeUndefined();
  });

  it('renders a hostile file key escaped', async () => {
    const evil = 'raw/orders/<script>alert(1)</script>.csv';
    await propose(contract, withNote, evil);
    const page = await handleReview(get(PAGE), ctx);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('raw/orders/&lt;script&gt;alert(1)&lt;/script&gt;.csv');
  });

  it('says when a stream has no proposals, and answers 404 / 400 / 405 / 401 where it should', async () => {
    await registerContract(store, contract);
    const empty = await handleReview(get(PAGE), ctx);
    expect(empty.statusCode).toBe(200);
    expect(empty.body).toContain('Stream orders has no schema proposals.');
    expect((await handleReview(get('/review'), ctx)).body).toContain(`href="${PAGE}">schema proposals</a>`);
    expect((await handleReview(get('/review/streams/users/proposals'), ctx)).statusCode).toBe(404);
    expect((await handleReview(get('/review/streams/Bad%20Name/proposals'), ctx)).statusCode).toBe(400);
    expect((await handleReview(get(`${PAGE}/not-an-id`), ctx)).statusCode).toBe(400);
    expect((await handleReview(get(`${PAGE}/0123456789abcdef`), ctx)).statusCode).toBe(405);
    const noToken = apiEvent('POST', `${PAGE}/0123456789abcdef`, { headers: FORM, body: 'action=adopt&operator=alice' });
    expect((await handleReview(noToken, ctx)).statusCode).toBe(401);
  });
});
