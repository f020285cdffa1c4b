import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, type OllamaDouble, type OllamaDoubleOptions, queue, startOllamaDouble } from '../support/ollama-double.ts';

const MODEL = DEFAULT_MODEL.name;
const messages = [{ role: 'user', content: 'fix this row: {"id": 1, "amount": "12,5"}' }];
let double: OllamaDouble | undefined;

async function start(script: OllamaDoubleOptions['script'], version?: string): Promise<{ d: OllamaDouble; client: Ollama }> {
  double = await startOllamaDouble({ script, ...(version ? { version } : {}) });
  return { d: double, client: new Ollama({ host: double.url }) };
}

afterEach(async () => {
  await double?.close();
  double = undefined;
});

describe('Ollama double, driven by the real ollama client', () => {
  it('answers version, list and show like the real server', async () => {
    const { d, client } = await start(queue({ kind: 'content', content: 'unused' }), '0.6.5');
    expect(await client.version()).toEqual({ version: '0.6.5' });
    const { models } = await client.list();
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ name: MODEL, model: MODEL, digest: DEFAULT_MODEL.digest, details: { format: 'gguf' } });
    expect(models[0]?.digest).toMatch(/^[0-9a-f]{64}$/);
    const shown = await client.show({ model: MODEL });
    expect(shown.details.family).toBe('qwen2');
    expect(shown.capabilities).toContain('completion');
    expect(Object.keys(shown)).toEqual(
      expect.arrayContaining(['license', 'modelfile', 'parameters', 'template', 'model_info', 'modified_at']),
    );
    const err = await client.show({ model: 'nope:7b' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ResponseError', status_code: 404, message: "model 'nope:7b' not found" });
    expect(d.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/version',
      'GET /api/tags',
      'POST /api/show',
      'POST /api/show',
    ]);
  });

  it('returns scripted content on a non-streaming chat and records the call', async () => {
    const { d, client } = await start(
      queue({ kind: 'content', content: '```json\n{"amount": 12.5}\n```' }, { kind: 'json', body: { ok: true } }),
    );
    const schema = { type: 'object', properties: { amount: { type: 'number' } } };
    const first = await client.chat({ model: MODEL, messages, format: schema, options: { temperature: 0 }, stream: false });
    expect(first).toMatchObject({
      model: MODEL,
      done: true,
      done_reason: 'stop',
      message: { role: 'assistant', content: '```json\n{"amount": 12.5}\n```' },
    });
    expect(first.eval_count).toBeGreaterThan(0);
    const second = await client.chat({ model: MODEL, messages, format: 'json' });
    expect(JSON.parse(second.message.content)).toEqual({ ok: true });
    expect(d.chats).toEqual([
      { model: MODEL, messages, format: schema, options: { temperature: 0 }, stream: false },
      { model: MODEL, messages, format: 'json', options: null, stream: false },
    ]);
  });

  it('streams the content as several ndjson chunks ending with done', async () => {
    const content = 'a sentence long enough to be split into several chunks';
    const { client } = await start(queue({ kind: 'content', content }));
    const parts: { content: string; done: boolean }[] = [];
    for await (const part of await client.chat({ model: MODEL, messages, stream: true })) {
      parts.push({ content: part.message.content, done: part.done });
    }
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.map((p) => p.content).join('')).toBe(content);
    expect(parts.at(-1)).toEqual({ content: '', done: true });
    expect(parts.slice(0, -1).every((p) => !p.done)).toBe(true);
  });

  it('turns scripted errors, unknown models and dropped streams into client errors', async () => {
    const { client } = await start(
      queue(
        { kind: 'error', status: 500, error: 'llama runner process has terminated' },
        { kind: 'drop-stream', partial: '{"amount": 12' },
      ),
    );
    const failed = await client.chat({ model: MODEL, messages, stream: false }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ name: 'ResponseError', status_code: 500, message: 'llama runner process has terminated' });
    const stream = await client.chat({ model: MODEL, messages, stream: true });
    const seen: string[] = [];
    await expect(async () => {
      for await (const part of stream) seen.push(part.message.content);
    }).rejects.toThrow('Did not receive done or success response in stream.');
    expect(seen.join('')).toBe('{"amount": 12');
    const dropped = await client.chat({ model: MODEL, messages, stream: false }).catch((e: unknown) => e);
    expect(dropped).toMatchObject({ name: 'TypeError', message: 'terminated' }); // body cut mid-way
    const missing = await client.chat({ model: 'llama3', messages, stream: false }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status_code: 404, message: 'model "llama3" not found, try pulling it first' });
  });

  it('stops a slow answer when the client gives up, and close() is prompt', async () => {
    const { d } = await start(queue({ kind: 'slow', delayMs: 60_000, then: { kind: 'content', content: 'late' } }));
    const impatient = new Ollama({ host: d.url, fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(150) }) });
    await expect(impatient.chat({ model: MODEL, messages, stream: false })).rejects.toThrow(/abort|timeout/i);
    const pending = new Ollama({ host: d.url }).chat({ model: MODEL, messages, stream: true }).catch((e: unknown) => e);
    await expect.poll(() => d.chats.length).toBe(2);
    const started = performance.now();
    await d.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('rejects malformed bodies with 400 and unknown paths with a plain 404', async () => {
    const { d } = await start(queue({ kind: 'content', content: 'x' }));
    const post = (path: string, body: string) =>
      fetch(`${d.url}${path}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    for (const body of ['{not json', '', '[1]', JSON.stringify({ model: MODEL, messages: 'hi' }), JSON.stringify({ messages })]) {
      const res = await post('/api/chat', body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: expect.any(String) });
    }
    expect((await post('/api/show', JSON.stringify({ name: MODEL }))).status).toBe(200);
    const unknown = await fetch(`${d.url}/api/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('404 page not found');
    expect((await fetch(`${d.url}/api/chat`)).status).toBe(404);
    expect(d.chats).toHaveLength(0);
  });
});
