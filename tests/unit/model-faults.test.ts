import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadRuntimeConfig } from '../../lib/config.ts';
import { keys } from '../../lib/keys.ts';
import { CircuitBreaker } from '../../lib/remediate/model/circuit-breaker.ts';
import type { ModelAccess } from '../../lib/remediate/model/model-access.ts';
import { modelFromConfig } from '../../lib/remediate/model/model-from-config.ts';
import { remediateCluster, settledResult } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import type { ClusterResult } from '../../lib/vault/cluster-result.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { findObject } from '../../lib/vault/vault-object.ts';
import { ingestAndCluster, localDeps, type LocalBatch } from '../support/local-batch.ts';
import { queue, startOllamaDouble, type ChatCall, type OllamaDouble, type ScriptedAnswer } from '../support/ollama-double.ts';

/**
 * The model server's faults, through the real `ollama` client built from the configuration
 * (modelFromConfig) against the Ollama double: a timeout, 500s, garbage on the wire, a hang and
 * a slow drip are each a model failure (ModelUnavailableError: the cluster waits as
 * `llm-unavailable`, the invocation does not crash) that feeds the circuit breaker; garbage in
 * the answer's content is a bad answer instead (a repair round). The breaker opens after
 * MODEL_BREAKER_FAILURES in a row, lets a trial through after MODEL_BREAKER_COOLDOWN_S (a fake
 * clock here), and closes on its success; a batch marked unavailable stays so.
 */
const TIMEOUT_MS = 400;
const COOLDOWN_S = 30;
const GOOD = 'x => x.trim().toUpperCase().replace(" ", "-")';
const GOOD_ANSWER = {
  transformation: GOOD,
  confidence_score: 0.9,
  reasoning: 'upper-case and join with a dash',
  pattern_type: 'separator',
};
const good: ScriptedAnswer = { kind: 'json', body: GOOD_ANSWER };
const http500: ScriptedAnswer = { kind: 'error', status: 500, error: 'llama runner process has terminated' };

/** `columns` columns that fail alike ("abc 1234" for "ABC-1234"): one cluster each, for the model (the synthesizer has no such move). */
async function batchOf(columns: number): Promise<LocalBatch> {
  const names = Array.from({ length: columns }, (_, i) => `c${i + 1}`);
  const contract = {
    stream: 'faults',
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      ...names.map((name) => ({ name, type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' })),
    ],
  };
  const rows = ['abc 1234', 'xyz 0042', 'ABC-0001'].map((v, i) => [i + 1, ...names.map(() => v)].join(','));
  const batch = await ingestAndCluster(contract, 'faults', `${['id', ...names].join(',')}\n${rows.join('\n')}\n`);
  batches.push(batch);
  expect(batch.clusters.map((c) => c.column).sort()).toEqual(names);
  return batch;
}

let sandbox: Sandbox;
let double: OllamaDouble | undefined;
let batches: LocalBatch[] = [];
let clock = Date.parse('2026-01-01T00:00:00Z');
const now = () => clock;

beforeAll(() => {
  sandbox = new Sandbox();
});
afterAll(() => sandbox.dispose());
afterEach(async () => {
  const started = performance.now();
  await double?.close(); // a hanging or dripping answer included: the connections are cut
  expect(performance.now() - started).toBeLessThan(1_000);
  double = undefined;
  for (const b of batches) b.cleanup();
  batches = [];
  vi.restoreAllMocks();
});

async function start(script: (call: ChatCall, index: number) => ScriptedAnswer, env: NodeJS.ProcessEnv = {}) {
  double = await startOllamaDouble({ script });
  const access = modelFromConfig(
    loadRuntimeConfig({
      OLLAMA_HOST: double.url,
      OLLAMA_TIMEOUT_MS: String(TIMEOUT_MS),
      OLLAMA_RETRIES: '1',
      MODEL_REPAIR_ROUNDS: '2',
      MODEL_BREAKER_FAILURES: '2',
      MODEL_BREAKER_COOLDOWN_S: String(COOLDOWN_S),
      ...env,
    }),
    now,
  )!;
  return { d: double, access };
}

/** One cluster through the remediate step: it always settles (never throws), every cell staged or quarantined. */
async function remediate(access: ModelAccess, batch: LocalBatch, column: string): Promise<ClusterResult & { ms: number }> {
  const spec = batch.clusters.find((c) => c.column === column)!;
  const started = performance.now();
  const outcome = await remediateCluster(
    { ...localDeps(batch, sandbox).remediate, model: access, notice: () => {} },
    keys.cluster(batch.batch, spec.cluster),
  );
  const result = settledResult(outcome);
  expect(result.counts.quarantined_cells + result.counts.staged_cells).toBe(result.counts.cells);
  return { ...result, ms: performance.now() - started };
}

const standing = (batch: LocalBatch) => findObject(batch.store, vaultObjects.modelTier.at(batch.batch));

/**
 * A transport fault on every ask: the first cluster is a failure (asked twice: OLLAMA_RETRIES=1),
 * the second opens the breaker and marks the batch unavailable, the third asks nothing. `reason`:
 * the ask's failure, as the result (after "model unavailable: ") and the batch's standing give it.
 */
async function expectFailuresOpenTheBreaker(script: (call: ChatCall, index: number) => ScriptedAnswer, reason: RegExp, maxMs: number) {
  const { d, access } = await start(script);
  const batch = await batchOf(3);
  const first = await remediate(access, batch, 'c1');
  expect(first).toMatchObject({ disposition: 'llm-unavailable', model_calls: 1, counts: { staged_cells: 0, quarantined_cells: 2 } });
  expect(first.reason).toMatch(/^model unavailable: /);
  expect(first.reason.slice('model unavailable: '.length)).toMatch(reason);
  expect(first.ms).toBeLessThan(maxMs);
  expect(d.chats).toHaveLength(2);
  expect([access.breaker.state, access.breaker.failures]).toEqual(['closed', 1]);
  expect(await standing(batch)).toBeUndefined();

  const second = await remediate(access, batch, 'c2');
  expect(second).toMatchObject({ disposition: 'llm-unavailable', model_calls: 1 });
  expect(second.reason.slice('model unavailable: '.length)).toMatch(reason);
  expect(second.ms).toBeLessThan(maxMs);
  expect(d.chats).toHaveLength(4);
  expect([access.breaker.state, access.breaker.failures]).toEqual(['open', 2]);
  expect(await standing(batch)).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(reason) });

  const requests = d.requests.length;
  const third = await remediate(access, batch, 'c3');
  expect(third).toMatchObject({ disposition: 'llm-unavailable', model_calls: 0, counts: { quarantined_cells: 2 } });
  expect(third.reason).toContain('model unavailable for this batch');
  expect(d.requests).toHaveLength(requests);
  return { first, second };
}

// Two attempts of TIMEOUT_MS each and a 200 ms backoff, plus the step's own work (~0.2-0.8 s, more on a busy machine).
const TIMED_OUT_BY = 2 * TIMEOUT_MS + 200 + 2_500;

describe('the circuit breaker', () => {
  it('opens after the threshold, is half-open after the cool-down, re-opens on a failed trial and closes on a success', () => {
    let t = 0;
    const breaker = new CircuitBreaker(2, 1_000, () => t);
    expect([breaker.state, breaker.open]).toEqual(['closed', false]);
    breaker.recordFailure();
    expect([breaker.state, breaker.failures]).toEqual(['closed', 1]);
    breaker.recordSuccess(); // a success in between: the count starts again
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
    t = 10;
    breaker.recordFailure();
    expect([breaker.state, breaker.open]).toEqual(['open', true]);
    t = 1_009;
    expect(breaker.open).toBe(true);
    t = 1_010;
    expect([breaker.state, breaker.open]).toEqual(['half-open', false]);
    breaker.recordFailure(); // the trial failed: a new cool-down from now
    expect([breaker.state, breaker.open]).toEqual(['open', true]);
    t = 2_009;
    expect(breaker.open).toBe(true);
    t = 2_010;
    expect(breaker.state).toBe('half-open');
    breaker.recordSuccess();
    expect([breaker.state, breaker.open, breaker.failures]).toEqual(['closed', false, 0]);
    breaker.recordFailure(); // closed again: one failure is not enough
    expect(breaker.state).toBe('closed');
  });

  it('takes its cool-down from MODEL_BREAKER_COOLDOWN_S (default 60 s)', () => {
    expect(loadRuntimeConfig({}).MODEL_BREAKER_COOLDOWN_S).toBe(60);
    const access = modelFromConfig(loadRuntimeConfig({ OLLAMA_HOST: 'http://127.0.0.1:1', MODEL_BREAKER_COOLDOWN_S: '5' }))!;
    expect([access.breaker.threshold, access.breaker.cooldownMs]).toEqual([3, 5_000]);
    expect(() => loadRuntimeConfig({ MODEL_BREAKER_COOLDOWN_S: '0' })).toThrow(/MODEL_BREAKER_COOLDOWN_S/);
  });
});

describe('model faults through the real client: each is a model failure, never a crash', () => {
  it('(1) an answer slower than OLLAMA_TIMEOUT_MS: aborted at the timeout', async () => {
    await expectFailuresOpenTheBreaker(
      queue({ kind: 'slow', delayMs: 5_000, then: good }),
      /^ollama chat failed after 2 attempts: TimeoutError: The operation was aborted due to timeout/,
      TIMED_OUT_BY,
    );
  });

  it('(2) HTTP 500s: the server error is the reason', async () => {
    await expectFailuresOpenTheBreaker(
      queue(http500),
      /^ollama chat failed after 2 attempts: ResponseError: llama runner process has terminated/,
      1_500,
    );
  });

  it('(3a) garbage on the wire (a 200 that is no ndjson): the client skips the lines, the stream has no done, a failure', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expectFailuresOpenTheBreaker(
      queue({ kind: 'raw', status: 200, contentType: 'application/x-ndjson', body: '<html>502 Bad Gateway</html>\nnot json either\n' }),
      /^ollama chat failed after 2 attempts: Error: Did not receive done or success response in stream\./,
      1_500,
    );
    expect(warn).toHaveBeenCalledWith('invalid json: ', '<html>502 Bad Gateway</html>');
  });

  it('(3b) garbage in the answer (not JSON, JSON of the wrong shape): a bad answer and a repair round, not a model failure', async () => {
    const notJson: ScriptedAnswer = { kind: 'content', content: 'Sure! Here is the function: x => x' };
    const wrongShape: ScriptedAnswer = { kind: 'json', body: { transformation: 42, confidence: 'high' } };
    // A 500 (asked twice), then the two garbage answers (two rounds), then 500s again.
    const { d, access } = await start(queue(http500, http500, notJson, wrongShape, http500));
    const batch = await batchOf(3);
    expect(await remediate(access, batch, 'c1')).toMatchObject({ disposition: 'llm-unavailable' });
    expect(access.breaker.failures).toBe(1);

    const garbled = await remediate(access, batch, 'c2');
    expect(garbled).toMatchObject({ tier: 'review', disposition: 'needs-review', model_calls: 2, counts: { quarantined_cells: 2 } });
    expect(garbled.evidence.rounds.map((r) => String(r['problem']).split(':')[0])).toEqual(['answer-not-json', 'answer-wrong-shape']);
    expect(d.chats[3]!.messages.at(-1)!.content).toContain('not JSON in the required shape');
    // The transport worked, so each garbage answer was a success for the breaker: the streak is broken.
    expect([access.breaker.state, access.breaker.failures]).toEqual(['closed', 0]);

    expect(await remediate(access, batch, 'c3')).toMatchObject({ disposition: 'llm-unavailable', model_calls: 1 });
    expect([access.breaker.state, access.breaker.failures]).toEqual(['closed', 1]); // two failures, not in a row
    expect(await standing(batch)).toBeUndefined();
    expect(d.chats).toHaveLength(6);
  });

  it('(4) a hang (accepted, never answered; or headers, then nothing): the client timeout ends it', async () => {
    await expectFailuresOpenTheBreaker(
      queue({ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang', afterHeaders: true }),
      /^ollama chat failed after 2 attempts: TimeoutError: The operation was aborted due to timeout/,
      TIMED_OUT_BY,
    );
  });

  it('(5) a slow drip: the timeout is on the whole ask, not idle time, so chunks that keep coming do not keep it alive', async () => {
    // A good answer in ~60 chunks 100 ms apart (~6 s an attempt): each chunk comes well within the timeout.
    const content = JSON.stringify({ ...GOOD_ANSWER, reasoning: 'r'.repeat(300) });
    const chunks = Math.ceil(content.length / 8);
    expect(chunks * 100).toBeGreaterThan(TIMED_OUT_BY); // one attempt's drip outlasts the bound the asks end within
    await expectFailuresOpenTheBreaker(
      queue({ kind: 'drip', content, gapMs: 100 }),
      /^ollama chat failed after 2 attempts: TimeoutError: The operation was aborted due to timeout/,
      TIMED_OUT_BY,
    );
    // Every attempt got chunks (~TIMEOUT_MS / 100 ms of them), then the client gave up mid-stream.
    expect(double!.sent).toHaveLength(4);
    for (const sent of double!.sent) {
      expect(sent).toBeGreaterThanOrEqual(2);
      expect(sent).toBeLessThan(15);
    }
  });
});

describe('the breaker opens and closes across clusters and batches', () => {
  it('skips the model while open, lets a trial through after the cool-down, and closes on a healthy answer', async () => {
    let healthy = false;
    const { d, access } = await start(() => (healthy ? good : http500));
    const [a, b] = [await batchOf(4), await batchOf(2)];

    // Batch A: two failures in a row open the breaker (and mark A unavailable).
    await remediate(access, a, 'c1');
    await remediate(access, a, 'c2');
    expect(access.breaker.state).toBe('open');
    expect(d.chats).toHaveLength(4);
    const requests = d.requests.length;

    // While open: A's next cluster waits on A's standing, B's on the breaker; no request reaches the double.
    expect(await remediate(access, a, 'c3')).toMatchObject({ disposition: 'llm-unavailable', model_calls: 0 });
    const skipped = await remediate(access, b, 'c1');
    expect(skipped).toMatchObject({ disposition: 'llm-unavailable', model_calls: 0, counts: { quarantined_cells: 2 } });
    expect(skipped.reason).toBe('model unavailable: circuit breaker open: the model failed too many times in a row');
    expect(await standing(b)).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('circuit breaker open') });
    clock += COOLDOWN_S * 1000 - 1;
    expect(access.breaker.open).toBe(true);
    expect(d.requests).toHaveLength(requests);

    // After the cool-down: half-open. A trial against a model still failing re-opens it (batch C marked unavailable).
    clock += 1;
    expect([access.breaker.state, access.breaker.open]).toEqual(['half-open', false]);
    const c = await batchOf(2);
    expect(await remediate(access, c, 'c1')).toMatchObject({ disposition: 'llm-unavailable', model_calls: 1 });
    expect(d.chats).toHaveLength(6);
    expect(access.breaker.state).toBe('open');
    expect(await remediate(access, c, 'c2')).toMatchObject({ disposition: 'llm-unavailable', model_calls: 0 });
    expect(d.chats).toHaveLength(6);

    // The next cool-down, with the model healthy again: batch D's first cluster is the trial and closes the breaker.
    clock += COOLDOWN_S * 1000;
    healthy = true;
    expect(access.breaker.state).toBe('half-open');
    // A batch already marked unavailable stays so: A's and B's last clusters ask nothing, and leave the breaker half-open.
    for (const [batch, column] of [
      [a, 'c4'],
      [b, 'c2'],
    ] as const) {
      const result = await remediate(access, batch, column);
      expect(result).toMatchObject({ disposition: 'llm-unavailable', model_calls: 0 });
      expect(result.reason).toContain('model unavailable for this batch');
    }
    expect(d.chats).toHaveLength(6);
    expect(access.breaker.state).toBe('half-open');

    const dBatch = await batchOf(2);
    const trial = await remediate(access, dBatch, 'c1');
    expect(trial).toMatchObject({ tier: 'model', disposition: 'fixed', model_calls: 1, counts: { staged_cells: 2, quarantined_cells: 0 } });
    expect([access.breaker.state, access.breaker.failures]).toEqual(['closed', 0]);
    expect(await remediate(access, dBatch, 'c2')).toMatchObject({ tier: 'model', disposition: 'fixed', model_calls: 1 });
    expect(d.chats).toHaveLength(8);
    expect(await standing(dBatch)).toBeUndefined();
  });
});
