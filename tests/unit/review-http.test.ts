import type { Context } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ClusterEvidence } from '../../lib/review/cluster-evidence.ts';
import type { ReviewContext } from '../../lib/review/http/context.ts';
import { ReviewHttpEventSchema, type ReviewHttpEvent } from '../../lib/review/http/event.ts';
import { REVIEW_OFF, handleReview } from '../../lib/review/http/router.ts';
import type { ReviewService } from '../../lib/review/http/service.ts';
import { vaultReviewService } from '../../lib/review/http/vault-service.ts';
import type { OperatorOutcome, OperatorRequest } from '../../lib/review/operator-decision.ts';
import type { Proposal } from '../../lib/review/proposal.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import type { ReviewDecision } from '../../lib/vault/review-decision.ts';

const TOKEN = 'operator-token-0123456789';
const SECRET = 'secret-column-value';
const BATCH = 'orders-0123456789abcdef0123';
const CLUSTER = 'c-00000000000000aa';
const CLUSTER_PATH = `/review/batches/${BATCH}/clusters/${CLUSTER}`;

interface EventOptions {
  query?: string;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
  base64?: boolean;
}

/** An API Gateway HTTP API (payload 2.0) event as serverless-offline and AWS deliver it. */
function apiEvent(method: string, path: string, o: EventOptions = {}): ReviewHttpEvent {
  return ReviewHttpEventSchema.parse({
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: o.query ?? '',
    headers: { host: '127.0.0.1:3000', ...o.headers },
    ...(o.cookies ? { cookies: o.cookies } : {}),
    ...(o.body !== undefined ? { body: o.base64 ? Buffer.from(o.body).toString('base64') : o.body } : {}),
    isBase64Encoded: o.base64 ?? false,
    requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId: 'r' },
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
  apiEvent('POST', CLUSTER_PATH, { headers: { ...FORM, ...headers }, body: new URLSearchParams(fields).toString() });
const bearer = { authorization: `Bearer ${TOKEN}` };

const proposal: Proposal = {
  name: 'date:d-m-y',
  source: '(v) => v',
  reads: ['ordered_at'],
  writes: ['ordered_at'],
  origin: 'synthesizer',
  gate: { accepted: true },
  cells: 4,
  passed: 4,
  pass_rate: 1,
  failures: {},
  examples: [{ before: SECRET, after: ['2026-01-31'], verdict: 'ok' }],
};

const evidence: ClusterEvidence = {
  batch: BATCH,
  stream: 'orders',
  cluster: CLUSTER,
  column: 'ordered_at',
  rule: 'date',
  pii: false,
  cells: 4,
  shapes: [{ shape: '99/99/9999', cells: 4 }],
  samples: [{ value: SECRET, shape: '99/99/9999', occurrences: 4 }],
  result: {
    disposition: 'needs-review',
    tier: 'review',
    confidence: 0.5,
    threshold: 0.75,
    reason: 'r',
    tried: [],
    model: null,
    reasoning: [],
  },
  proposals: [proposal],
  decision: null,
  reviewed: null,
  reviewable: { ok: true },
};

const decision: ReviewDecision = {
  schema_version: 1,
  batch: BATCH,
  stream: 'orders',
  cluster: CLUSTER,
  column: 'ordered_at',
  rule: 'date',
  action: 'approve',
  operator: 'alice',
  at: '2026-01-02T03:04:05.000Z',
  function: { name: proposal.name, source: proposal.source, reads: [], writes: [] },
  measured: { cells: 4, passed: 4, pass_rate: 1, failures: {} },
  reason: '',
  candidate: proposal.name,
};

/** A fake service recording every call; `decide` answers `outcome` ('none': no such cluster). */
function fakeService(outcome: OperatorOutcome | 'none' = { status: 'decided', decision, measured: proposal }) {
  const calls: { method: string; args: unknown[] }[] = [];
  const decided: OperatorRequest[] = [];
  const service: ReviewService = {
    overview: async () => {
      calls.push({ method: 'overview', args: [] });
      return [{ stream: 'orders', state: 'running', reason: null, waiting_files: 0, batches: [] }];
    },
    batch: async (batch) => {
      calls.push({ method: 'batch', args: [batch] });
      return undefined;
    },
    cluster: async (batch, cluster) => {
      calls.push({ method: 'cluster', args: [batch, cluster] });
      return cluster === CLUSTER ? evidence : undefined;
    },
    decide: async (request) => {
      calls.push({ method: 'decide', args: [request] });
      decided.push(request);
      return outcome === 'none' ? undefined : outcome;
    },
  };
  return { service, calls, decided };
}

const context = (service: ReviewService): ReviewContext => ({ service, token: TOKEN });

describe('review access', () => {
  it('answers 401 to everything, rendering nothing, while no OPERATOR_TOKEN is configured', async () => {
    const { service, calls } = fakeService();
    for (const e of [
      apiEvent('GET', '/review', { headers: bearer }),
      post({ action: 'reject', operator: 'a', reason: 'r', token: TOKEN }),
      apiEvent('GET', '/nope'),
    ]) {
      const response = await handleReview(e, { service, token: undefined });
      expect(response.statusCode).toBe(401);
      expect(response.body.trim()).toBe(REVIEW_OFF);
    }
    expect(calls).toEqual([]);
  });

  it('answers 401 to a missing or wrong token, rendering nothing of the vault', async () => {
    const { service, calls } = fakeService();
    const wrong = [
      apiEvent('GET', CLUSTER_PATH),
      apiEvent('GET', CLUSTER_PATH, { headers: { authorization: 'Bearer wrong-token-0123456789' } }),
      apiEvent('GET', CLUSTER_PATH, { cookies: ['vaultmend_operator=wrong'] }),
      apiEvent('GET', CLUSTER_PATH, { headers: { authorization: `Basic ${TOKEN}` } }),
      apiEvent('GET', CLUSTER_PATH, { query: 'token=nope' }),
    ];
    for (const e of wrong) {
      const response = await handleReview(e, context(service));
      expect(response.statusCode).toBe(401);
      expect(response.body).not.toContain(SECRET);
      expect(response.cookies).toBeUndefined();
    }
    expect(calls).toEqual([]);
  });

  it('lets a GET in with the bearer header, the cookie (array or header) and answers pages with strict headers', async () => {
    const { service } = fakeService();
    const ways = [
      apiEvent('GET', CLUSTER_PATH, { headers: bearer }),
      apiEvent('GET', CLUSTER_PATH, { cookies: ['other=1', `vaultmend_operator=${TOKEN}`] }),
      apiEvent('GET', CLUSTER_PATH, { headers: { cookie: `a=b; vaultmend_operator=${TOKEN}` } }),
    ];
    for (const e of ways) {
      const response = await handleReview(e, context(service));
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain(SECRET);
      expect(response.headers).toMatchObject({
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
      });
    }
  });

  it('answers ?token= with a 303 to the same path without the query, setting the cookie', async () => {
    const { service, calls } = fakeService();
    const response = await handleReview(apiEvent('GET', CLUSTER_PATH, { query: `token=${TOKEN}` }), context(service));
    expect(response.statusCode).toBe(303);
    expect(response.headers['location']).toBe(CLUSTER_PATH);
    expect(response.cookies).toEqual([`vaultmend_operator=${TOKEN}; HttpOnly; SameSite=Strict; Path=/review`]);
    expect(response.body).not.toContain(TOKEN);
    expect(calls).toEqual([]);
    const https = await handleReview(
      apiEvent('GET', '/review', { query: `token=${TOKEN}`, headers: { 'x-forwarded-proto': 'https' } }),
      context(service),
    );
    expect(https.cookies?.[0]).toMatch(/; Secure$/);
  });

  it('refuses a POST carrying the token only as a cookie (no cross-site form or link can decide)', async () => {
    const { service, calls } = fakeService();
    const e = post({ action: 'approve', operator: 'alice', candidate: proposal.name });
    e.cookies = [`vaultmend_operator=${TOKEN}`];
    const response = await handleReview(e, context(service));
    expect(response.statusCode).toBe(401);
    expect(calls).toEqual([]);
  });

  it('accepts a POST with the token in the form or the bearer header', async () => {
    for (const e of [
      post({ action: 'approve', operator: 'alice', candidate: proposal.name, token: TOKEN }),
      post({ action: 'approve', operator: 'alice', candidate: proposal.name }, bearer),
    ]) {
      const { service, decided } = fakeService();
      const response = await handleReview(e, context(service));
      expect(response.statusCode).toBe(303);
      expect(decided).toHaveLength(1);
    }
  });
});

describe('review routing', () => {
  it('routes each page to the service with the ids from the path', async () => {
    const { service, calls } = fakeService();
    expect((await handleReview(apiEvent('GET', '/review', { headers: bearer }), context(service))).statusCode).toBe(200);
    expect((await handleReview(apiEvent('GET', '/review/', { headers: bearer }), context(service))).statusCode).toBe(200);
    expect((await handleReview(apiEvent('GET', `/review/batches/${BATCH}`, { headers: bearer }), context(service))).statusCode).toBe(404);
    expect((await handleReview(apiEvent('GET', CLUSTER_PATH, { headers: bearer }), context(service))).statusCode).toBe(200);
    expect(calls).toEqual([
      { method: 'overview', args: [] },
      { method: 'overview', args: [] },
      { method: 'batch', args: [BATCH] },
      { method: 'cluster', args: [BATCH, CLUSTER] },
    ]);
  });

  it('answers 400 to malformed ids, 404 to unknown paths and clusters, 405 to other methods', async () => {
    const { service, calls } = fakeService();
    const status = async (method: string, path: string) =>
      (await handleReview(apiEvent(method, path, { headers: bearer }), context(service))).statusCode;
    expect(await status('GET', '/review/batches/NOT_A_BATCH')).toBe(400);
    expect(await status('GET', '/review/batches/..%2F..%2Fetc')).toBe(400);
    expect(await status('GET', `/review/batches/${BATCH}/clusters/c-1`)).toBe(400);
    expect(await status('GET', '/review/other')).toBe(404);
    expect(await status('GET', '/')).toBe(404);
    expect(await status('GET', `/review/batches/${BATCH}/clusters/c-00000000000000bb`)).toBe(404);
    expect(await status('PUT', CLUSTER_PATH)).toBe(405);
    expect(await status('POST', '/review')).toBe(405);
    expect(calls.map((c) => c.method)).toEqual(['cluster']);
  });

  it('answers 500 without details when the service fails', async () => {
    const { service } = fakeService();
    service.overview = async () => {
      throw new Error(`boom ${SECRET}`);
    };
    const logged: unknown[] = [];
    const response = await handleReview(apiEvent('GET', '/review', { headers: bearer }), {
      service,
      token: TOKEN,
      log: (...args) => logged.push(args),
    });
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('boom');
    expect(logged).toHaveLength(1);
  });
});

describe('review decisions', () => {
  it('passes each action to the service as an operator request, and 303s to the cluster once decided', async () => {
    const { service, decided } = fakeService();
    const forms: Record<string, string>[] = [
      { action: 'approve', operator: 'alice', candidate: 'date:d-m-y', note: '' },
      { action: 'choose', operator: 'alice', candidate: 'date:m-d-y', note: 'checked with the team' },
      { action: 'edit', operator: 'bob', source: '(v) =>\r\n  v', confirm: '1' },
      { action: 'edit', operator: 'bob', source: '(v) => v' },
      { action: 'reject', operator: 'carol@ops', reason: '  not a date at all ' },
    ];
    for (const form of forms) {
      const response = await handleReview(post({ ...form, token: TOKEN }), context(service));
      expect(response.statusCode).toBe(303);
      expect(response.headers['location']).toBe(CLUSTER_PATH);
    }
    const at = { batch: BATCH, cluster: CLUSTER };
    expect(decided).toEqual([
      { action: 'approve', ...at, operator: 'alice', candidate: 'date:d-m-y' },
      { action: 'choose', ...at, operator: 'alice', candidate: 'date:m-d-y', note: 'checked with the team' },
      { action: 'edit', ...at, operator: 'bob', source: '(v) =>\n  v', confirm: true },
      { action: 'edit', ...at, operator: 'bob', source: '(v) => v', confirm: false },
      { action: 'reject', ...at, operator: 'carol@ops', reason: 'not a date at all' },
    ]);
  });

  it('reads a base64 body (Function URLs send forms so)', async () => {
    const { service, decided } = fakeService();
    const body = new URLSearchParams({ action: 'reject', operator: 'alice', reason: 'no', token: TOKEN }).toString();
    const response = await handleReview(apiEvent('POST', CLUSTER_PATH, { headers: FORM, body, base64: true }), context(service));
    expect(response.statusCode).toBe(303);
    expect(decided[0]).toMatchObject({ action: 'reject', reason: 'no' });
  });

  it('answers 400 naming what is wrong, deciding nothing, to a bad form', async () => {
    const { service, decided } = fakeService();
    const bad: [Record<string, string>, string][] = [
      [{ action: 'approve', candidate: 'x' }, 'operator'],
      [{ action: 'approve', operator: '<img src=x onerror=alert(1)>', candidate: 'x' }, 'operator: letters, digits'],
      [{ action: 'approve', operator: 'alice' }, 'candidate'],
      [{ action: 'reject', operator: 'alice', reason: '   ' }, 'reason: is required'],
      [{ action: 'edit', operator: 'alice', source: '' }, 'source'],
      [{ action: 'edit', operator: 'alice', source: 'x', confirm: 'yes' }, 'confirm'],
      [{ action: 'delete', operator: 'alice' }, 'action'],
    ];
    for (const [fields, problem] of bad) {
      const response = await handleReview(post({ ...fields, token: TOKEN }), context(service));
      expect(response.statusCode, JSON.stringify(fields)).toBe(400);
      expect(response.body).toContain(problem);
      expect(response.body).not.toContain('<img');
    }
    const json = await handleReview(
      apiEvent('POST', CLUSTER_PATH, { headers: { 'content-type': 'application/json', ...bearer }, body: '{"action":"reject"}' }),
      context(service),
    );
    expect(json.statusCode).toBe(400);
    expect(decided).toEqual([]);
  });

  it('shows an edit measured as a preview (200) and a refusal in #refused (422), nothing decided', async () => {
    const preview = fakeService({ status: 'preview', measured: { ...proposal, name: 'operator:edit', origin: 'operator' } });
    const previewed = await handleReview(
      post({ action: 'edit', operator: 'bob', source: '(v) => v', token: TOKEN }),
      context(preview.service),
    );
    expect(previewed.statusCode).toBe(200);
    expect(previewed.body).toContain('<section id="preview">');
    expect(previewed.body).toContain('<form class="confirm"');
    expect(previewed.body).toContain('value="bob"');
    const refused = fakeService({ status: 'refused', reason: 'the gate refused the function: io', measured: null });
    const answered = await handleReview(
      post({ action: 'edit', operator: 'bob', source: 'fetch(1)', token: TOKEN }),
      context(refused.service),
    );
    expect(answered.statusCode).toBe(422);
    expect(answered.body).toContain('<section id="refused"');
    expect(answered.body).toContain('the gate refused the function: io');
  });

  it('answers 409 naming who decided first and when', async () => {
    const { service } = fakeService({ status: 'already-decided', decision });
    const response = await handleReview(post({ action: 'reject', operator: 'bob', reason: 'late', token: TOKEN }), context(service));
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('alice decided this cluster first (approve at 2026-01-02T03:04:05.000Z)');
  });

  it('answers 404 when the cluster does not exist', async () => {
    const { service } = fakeService('none');
    const response = await handleReview(post({ action: 'reject', operator: 'bob', reason: 'x', token: TOKEN }), context(service));
    expect(response.statusCode).toBe(404);
  });
});

describe('review handler', () => {
  const lambdaContext = {
    functionName: 'review',
    awsRequestId: 'r',
    invokedFunctionArn: 'arn',
    memoryLimitInMB: '1024',
  } as unknown as Context;

  it('exports a handler that answers 401 while no OPERATOR_TOKEN is configured, and 400 to a non-HTTP event', async () => {
    vi.stubEnv('OPERATOR_TOKEN', '');
    const { handler } = await import('../../functions/review.ts');
    expect(typeof handler).toBe('function');
    const off = await handler(apiEvent('GET', '/review'), lambdaContext);
    expect(off).toMatchObject({ statusCode: 401 });
    expect(off.body.trim()).toBe(REVIEW_OFF);
    const notHttp = await handler({ Records: [] } as unknown as ReviewHttpEvent, lambdaContext);
    expect(notHttp).toMatchObject({ statusCode: 400 });
    vi.unstubAllEnvs();
  });
});

describe('vault review service', () => {
  it('answers undefined (404) for a batch or cluster the vault does not hold, without starting the sandbox', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vaultmend-review-'));
    try {
      let built = 0;
      const service = vaultReviewService(new FileObjectStore(root), () => {
        built += 1;
        throw new Error('no deps in this test');
      });
      expect(await service.batch(BATCH)).toBeUndefined();
      expect(await service.cluster(BATCH, CLUSTER)).toBeUndefined();
      expect(await service.decide({ action: 'reject', batch: BATCH, cluster: CLUSTER, operator: 'alice', reason: 'x' })).toBeUndefined();
      expect(await service.overview()).toEqual([]);
      expect(built).toBe(0);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
