import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../lib/engine/duckdb.ts';
import { keys } from '../../lib/keys.ts';
import type { ClusterResult } from '../../lib/vault/cluster-result.ts';
import { ModelAccess } from '../../lib/remediate/model/model-access.ts';
import { OllamaModel } from '../../lib/remediate/model/ollama-model.ts';
import { remediateCluster, settledResult } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { ENGINE, ingestAndCluster } from '../support/local-batch.ts';
import {
  DEFAULT_MODEL,
  queue,
  startOllamaDouble,
  type ChatCall,
  type DoubleModel,
  type OllamaDouble,
  type ScriptedAnswer,
} from '../support/ollama-double.ts';

/**
 * The model tier through the real `ollama` client against the Ollama HTTP double on loopback:
 * every scripted answer ends in staged or quarantined cells, never a lost one.
 */
const CONTRACT = {
  stream: 'ledger',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' },
    { name: 'account', type: 'string', pattern: '[0-9]{4}-[0-9]{4}', pii: true },
  ],
};
const GOOD = 'x => x.trim().toUpperCase().replace(" ", "-")';
const answer = (transformation: string, confidence_score = 0.9): ScriptedAnswer => ({
  kind: 'json',
  body: { transformation, confidence_score, reasoning: 'upper-case the letters and join with a dash', pattern_type: 'separator' },
});

function csv(codes: string[], accounts: string[] = []): string {
  const rows = codes.map((code, i) => `${i + 1},${code},1111-2222`);
  const more = accounts.map((account, i) => `${codes.length + i + 1},ABC-0001,${account}`);
  return `${['id,code,account', ...rows, ...more, `${codes.length + accounts.length + 1},ABC-0002,3333-4444`].join('\n')}\n`;
}

let sandbox: Sandbox;
let engine: Engine;
beforeAll(async () => {
  sandbox = new Sandbox();
  engine = await Engine.open({ ...ENGINE, spillDir: '/tmp/vaultmend-test-spill' });
});
afterAll(() => {
  sandbox.dispose();
  engine.close();
});

interface Run {
  results: ClusterResult[];
  chats: ChatCall[];
  double: OllamaDouble;
  notices: string[];
  audit: Record<string, unknown>[];
}

async function run(
  script: (call: ChatCall, index: number) => ScriptedAnswer,
  data: string,
  options: { timeoutMs?: number; retries?: number; rounds?: number; breaker?: number; models?: DoubleModel[] } = {},
): Promise<Run> {
  const double = await startOllamaDouble({ script, ...(options.models ? { models: options.models } : {}) });
  const batch = await ingestAndCluster(CONTRACT, 'ledger', data);
  const model = new OllamaModel({
    host: double.url,
    model: DEFAULT_MODEL.name,
    timeoutMs: options.timeoutMs ?? 5_000,
    retries: options.retries ?? 0,
    allowHosts: [],
  });
  const access = new ModelAccess(model, options.rounds ?? 3, options.breaker ?? 3);
  const notices: string[] = [];
  try {
    const results: ClusterResult[] = [];
    for (const spec of [...batch.clusters].sort((a, b) => a.column.localeCompare(b.column))) {
      const outcome = await remediateCluster(
        {
          store: batch.store,
          workDir: batch.workDir,
          engine: ENGINE,
          sandbox,
          threshold: 0.75,
          model: access,
          notice: (m) => notices.push(m),
        },
        keys.cluster(batch.batch, spec.cluster),
      );
      // Never a lost cell: every cell is staged or quarantined.
      const cells = settledResult(outcome).counts.cells;
      expect(
        settledResult(outcome).counts.quarantined_cells +
          (settledResult(outcome).outputs.staged ? cells - settledResult(outcome).counts.quarantined_cells : 0),
      ).toBe(cells);
      results.push(settledResult(outcome));
    }
    const audit = (
      await Promise.all(
        results
          .filter((r) => r.outputs.audit)
          .map((r) => engine.rows<Record<string, unknown>>(`SELECT * FROM read_parquet('${join(batch.root, r.outputs.audit!)}')`)),
      )
    ).flat();
    return { results, chats: double.chats, double, notices, audit };
  } finally {
    await double.close();
    batch.cleanup();
  }
}

describe('remediate: the model tier against the Ollama double', () => {
  it('applies a good function, and records the model and its digest in every audit row', async () => {
    const { results, chats, audit } = await run(queue(answer(GOOD)), csv(['abc 1234', 'xyz 0042', ' qrs 7777']));
    expect(results[0]).toMatchObject({ column: 'code', tier: 'model', disposition: 'fixed', model_calls: 1, confidence: 0.9 });
    expect(results[0]!.model).toEqual({ name: DEFAULT_MODEL.name, digest: DEFAULT_MODEL.digest, server_version: expect.any(String) });
    expect(audit).toHaveLength(3);
    expect(
      audit.every((a) => a['model'] === DEFAULT_MODEL.name && a['model_version'] === DEFAULT_MODEL.digest && a['tier'] === 'model'),
    ).toBe(true);
    // The request carried the answer schema as `format`, the contract and the failing rule.
    expect(chats[0]!.format).toMatchObject({ type: 'object', required: expect.arrayContaining(['transformation', 'confidence_score']) });
    expect(chats[0]!.messages[1]!.content).toContain('[A-Z]{3}-[0-9]{4}');
    expect(chats[0]!.messages[1]!.content).toContain('Failing rule: pattern');
  });

  it('asks again after invalid JSON, and takes markdown-wrapped JSON', async () => {
    const wrapped: ScriptedAnswer = {
      kind: 'content',
      content: `\`\`\`json\n${JSON.stringify({ transformation: GOOD, confidence_score: 0.95, reasoning: 'r', pattern_type: 'p' })}\n\`\`\``,
    };
    const { results, chats } = await run(
      queue({ kind: 'content', content: 'Sure! Here is the function: x => x' }, wrapped),
      csv(['abc 1234', 'def 5678']),
    );
    expect(results[0]).toMatchObject({ tier: 'model', disposition: 'fixed', model_calls: 2 });
    expect(String(results[0]!.evidence.rounds[0]!['problem'])).toContain('answer-not-json');
    expect(chats[1]!.messages[1]!.content).toContain('not JSON in the required shape');
  });

  it('feeds the gate refusal back: a Python lambda, then a forbidden construct, then a good function', async () => {
    const { results, chats } = await run(
      queue(answer('lambda x: x.upper()'), answer('x => x.constructor.name'), answer(GOOD)),
      csv(['abc 1234', 'def 5678']),
    );
    expect(results[0]).toMatchObject({ tier: 'model', disposition: 'fixed', model_calls: 3 });
    expect(results[0]!.evidence.rounds.map((r) => String(r['problem'] ?? 'ok'))).toEqual([
      expect.stringContaining('python-lambda'),
      expect.stringContaining('forbidden-property'),
      'ok',
    ]);
    expect(chats[2]!.messages[1]!.content).toContain('x => x.constructor.name');
  });

  it('sends the cluster to review after the last round when every function is refused', async () => {
    const { results } = await run(queue(answer('x => { while (true) {} }')), csv(['abc 1234', 'def 5678']), { rounds: 2 });
    expect(results[0]).toMatchObject({
      tier: 'review',
      disposition: 'needs-review',
      model_calls: 2,
      counts: { quarantined_cells: 2, staged_cells: 0 },
    });
  });

  it('does not apply a function the model itself doubts: confidence is min(model score, pass rate)', async () => {
    const { results } = await run(queue(answer(GOOD, 0.3)), csv(['abc 1234', 'def 5678']), { rounds: 1 });
    expect(results[0]).toMatchObject({ tier: 'review', disposition: 'needs-review', model_calls: 1 });
    expect(results[0]!.evidence.rounds[0]).toMatchObject({ model_score: 0.3, pass_rate: 1, confidence: 0.3 });
  });

  it('measures the function on every value: one that fits only some values is not trusted', async () => {
    const { results } = await run(
      queue(answer('x => x.toUpperCase().replace(" ", "-")')),
      csv(['abc 1234', 'def 5678', 'ghi  9999', 'jkl  1111', 'mno  2222']),
      { rounds: 1 },
    );
    expect(results[0]!.evidence.rounds[0]).toMatchObject({ pass_rate: 0.4 });
    expect(results[0]).toMatchObject({ disposition: 'needs-review', counts: { quarantined_cells: 5 } });
  });

  it('opens the circuit breaker on a model slower than its timeout; the rest of the batch waits as llm-unavailable', async () => {
    const started = Date.now();
    const { results, chats } = await run(
      queue({ kind: 'slow', delayMs: 5_000, then: answer(GOOD) }),
      csv(['abc 1234'], ['1234 5678', '8765 4321']),
      {
        timeoutMs: 300,
        retries: 1,
        breaker: 1,
      },
    );
    expect(results.map((r) => [r.column, r.disposition, r.model_calls])).toEqual([
      ['account', 'llm-unavailable', 1],
      ['code', 'llm-unavailable', 0],
    ]);
    expect(chats).toHaveLength(2); // one ask, retried once
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(results[1]!.reason).toContain('model unavailable for this batch');
  });

  it('treats 500s and a dropped stream as the model being unavailable, after bounded retries', async () => {
    for (const failure of [
      { kind: 'error', status: 500, error: 'llama runner process has terminated' },
      { kind: 'drop-stream', partial: '{"transf' },
    ] as ScriptedAnswer[]) {
      const { results, chats } = await run(queue(failure), csv(['abc 1234']), { retries: 2, breaker: 5 });
      expect(results[0]).toMatchObject({ disposition: 'llm-unavailable', counts: { quarantined_cells: 1 } });
      expect(chats).toHaveLength(3);
    }
  });

  it('skips the model tier (and says so once per batch) when the model is not on the server', async () => {
    const { results, chats, notices } = await run(queue(answer(GOOD)), csv(['abc 1234'], ['1234 5678']), {
      models: [{ name: 'other:7b', digest: 'a'.repeat(64) }],
    });
    expect(results.map((r) => r.disposition)).toEqual(['needs-review', 'needs-review']);
    expect(results[0]!.reason).toContain('is not on the Ollama server');
    expect(chats).toHaveLength(0);
    expect(notices).toHaveLength(1);
  });

  it('masks pii samples before they leave the function, keeping their shape', async () => {
    const { chats } = await run(queue(answer('x => x.replace(" ", "-")')), csv([], ['1234 5678', '9012 3456']));
    const prompt = chats[0]!.messages[1]!.content;
    expect(prompt).not.toContain('1234 5678');
    expect(prompt).not.toContain('9012 3456');
    expect(prompt).toMatch(/"\d{4} \d{4}" \(shape "9 9"\)/);
  });
});
