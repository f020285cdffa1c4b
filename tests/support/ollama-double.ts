/**
 * Test double of the Ollama HTTP API: no model runs, a script decides every chat answer.
 * It reproduces the wire shapes the real server (and the `ollama` npm client) use:
 *   GET  /api/version -> {version}
 *   GET  /api/tags    -> {models:[{name, model, modified_at, size, digest, details}]}
 *   POST /api/show    -> {license, modelfile, parameters, template, details, model_info, capabilities, modified_at}
 *                        unknown model: 404 {"error":"model 'x' not found"}
 *   POST /api/chat    -> one JSON object, or (stream defaults to true) application/x-ndjson chunks ending
 *                        with a done:true line; unknown model: 404 {"error":"model \"x\" not found, try pulling it first"}
 *   malformed bodies  -> 400 {"error":"..."}; any other route -> 404 text "404 page not found".
 * Faults a script can ask for besides errors: `slow` (the answer after a delay), `drop-stream` (cut
 * before done), `hang` (accepted, never answered), `drip` (chunks one at a time, `gapMs` apart) and
 * `raw` (any status, content type and bytes: garbage on the wire).
 * Over http on loopback, or https with `tls` (a key and certificate, e.g. from a throwaway CA).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type ScriptedAnswer =
  | { kind: 'content'; content: string }
  | { kind: 'json'; body: unknown }
  | { kind: 'error'; status: number; error: string }
  | { kind: 'slow'; delayMs: number; then: ScriptedAnswer }
  | { kind: 'drop-stream'; partial: string }
  /** Never answers (with `afterHeaders`, after a 200 and the ndjson headers): ends when the client gives up or on close(). */
  | { kind: 'hang'; afterHeaders?: boolean }
  /** The content's chunks (then the done line) one at a time, `gapMs` apart; a non-streaming body in pieces alike. */
  | { kind: 'drip'; content: string; gapMs: number }
  /** Exactly these bytes with this status and content type. */
  | { kind: 'raw'; status: number; contentType: string; body: string };

export interface ChatCall {
  model: string;
  messages: { role: string; content: string }[];
  format: unknown;
  options: unknown;
  stream: boolean;
}

export interface DoubleModel {
  name: string;
  digest: string;
  family?: string;
  parameterSize?: string;
}

export interface OllamaDoubleOptions {
  models?: DoubleModel[];
  version?: string;
  /** Decides the answer of every /api/chat call, in order. */
  script: (call: ChatCall, index: number) => ScriptedAnswer;
  /** Serve https with this key and certificate (PEM) instead of http. */
  tls?: { key: string; cert: string };
}

export interface OllamaDouble {
  url: string;
  chats: ChatCall[];
  requests: { method: string; path: string }[];
  /** Pieces written for each chat call (by its index in `chats`): ndjson lines, or parts of a non-streaming body. */
  sent: number[];
  close(): Promise<void>;
}

export const DEFAULT_MODEL: DoubleModel = {
  name: 'qwen2.5-coder:1.5b',
  digest: 'd7372fd828518d2a1e5b3a8ed1bd9ac0b2a9d4e7e0bd2b5c1b6a38cc2aaf6b1e',
  family: 'qwen2',
  parameterSize: '1.5B',
};

/** Answers in order; once exhausted, the last one repeats. */
export function queue(...answers: ScriptedAnswer[]): (call: ChatCall, index: number) => ScriptedAnswer {
  if (answers.length === 0) throw new Error('queue() needs at least one answer');
  return (_call, index) => answers[Math.min(index, answers.length - 1)]!;
}

type Json = Record<string, unknown>;
const CHUNK = 8;
const MODIFIED_AT = '2025-01-15T10:20:30.123456789Z';
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Ollama resolves a bare name to its ':latest' tag. */
const canonical = (name: string): string => (name.includes(':') ? name : `${name}:latest`);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Json | string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  if (text.trim() === '') return 'missing request body';
  try {
    const body: unknown = JSON.parse(text);
    return isRecord(body) ? body : 'invalid request body: expected a JSON object';
  } catch (error) {
    return `invalid character in request body: ${(error as Error).message}`;
  }
}

/** Validates a chat body the way the real server's binding does; a string is the 400 error. */
function toChatCall(body: Json): ChatCall | string {
  const { model, messages = [], format = null, options = null, stream = true } = body;
  if (typeof model !== 'string' || model === '') return 'model is required';
  if (!Array.isArray(messages)) return 'json: cannot unmarshal messages into Go struct field ChatRequest.messages';
  const valid = messages.every((m) => isRecord(m) && typeof m.role === 'string' && typeof (m.content ?? '') === 'string');
  if (!valid) return 'json: cannot unmarshal message into Go struct field ChatRequest.messages of type api.Message';
  if (format !== null && format !== '' && format !== 'json' && !isRecord(format)) {
    return 'invalid format: expected "json" or a valid JSON schema';
  }
  if (typeof stream !== 'boolean') return 'json: cannot unmarshal stream into Go struct field ChatRequest.stream of type bool';
  const msgs = (messages as Json[]).map((m) => ({ role: m.role as string, content: (m.content ?? '') as string }));
  return { model, messages: msgs, format, options, stream };
}

export async function startOllamaDouble(options: OllamaDoubleOptions): Promise<OllamaDouble> {
  const models = options.models ?? [DEFAULT_MODEL];
  const version = options.version ?? '0.6.5';
  const chats: ChatCall[] = [];
  const requests: { method: string; path: string }[] = [];
  const sent: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const find = (name: string) => models.find((m) => canonical(m.name) === canonical(name));

  const details = (m: DoubleModel) => ({
    parent_model: '',
    format: 'gguf',
    family: m.family ?? 'qwen2',
    families: [m.family ?? 'qwen2'],
    parameter_size: m.parameterSize ?? '1.5B',
    quantization_level: 'Q4_K_M',
  });

  /** Runs `fn` after `ms` unless the response closes first or the double is closed. */
  function later(res: ServerResponse, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  }

  function answer(res: ServerResponse, call: ChatCall, scripted: ScriptedAnswer, index: number): void {
    if (res.destroyed) return;
    const base = () => ({ model: call.model, created_at: new Date().toISOString() });
    const pieces = (text: string) => text.match(new RegExp(`[\\s\\S]{1,${CHUNK}}`, 'gu')) ?? [];
    const chunkLine = (piece: string) => `${JSON.stringify({ ...base(), message: { role: 'assistant', content: piece }, done: false })}\n`;
    const write = (text: string) => {
      sent[index] = (sent[index] ?? 0) + 1;
      res.write(text);
    };
    const streamPieces = (chunks: string[]) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      for (const piece of chunks) write(chunkLine(piece));
    };
    const finalFields = (content: string) => ({
      done: true,
      done_reason: 'stop',
      total_duration: 912_345_678,
      load_duration: 12_345_678,
      prompt_eval_count: Math.ceil(call.messages.reduce((n, m) => n + m.content.length, 0) / 4),
      prompt_eval_duration: 100_000_000,
      eval_count: pieces(content).length,
      eval_duration: 800_000_000,
    });
    switch (scripted.kind) {
      case 'error':
        return sendJson(res, scripted.status, { error: scripted.error });
      case 'slow':
        return later(res, scripted.delayMs, () => answer(res, call, scripted.then, index));
      case 'hang':
        if (scripted.afterHeaders) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' }).flushHeaders();
        return; // nothing more: the socket stays open until the client aborts or close() ends it
      case 'raw':
        sent[index] = 1;
        return void res.writeHead(scripted.status, { 'Content-Type': scripted.contentType }).end(scripted.body);
      case 'drip': {
        const lines = call.stream
          ? [
              ...pieces(scripted.content).map(chunkLine),
              `${JSON.stringify({ ...base(), message: { role: 'assistant', content: '' }, ...finalFields(scripted.content) })}\n`,
            ]
          : pieces(
              JSON.stringify({ ...base(), message: { role: 'assistant', content: scripted.content }, ...finalFields(scripted.content) }),
            );
        res.writeHead(200, { 'Content-Type': call.stream ? 'application/x-ndjson' : 'application/json; charset=utf-8' }).flushHeaders();
        let next = 0;
        const drip = () => {
          if (next < lines.length) write(lines[next++]!);
          if (next === lines.length) {
            stop();
            res.end();
          }
        };
        const timer = setInterval(drip, scripted.gapMs);
        const stop = () => {
          clearInterval(timer);
          timers.delete(timer);
        };
        timers.add(timer);
        res.once('close', stop);
        return drip();
      }
      case 'drop-stream': {
        if (!call.stream) {
          res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
          const body = JSON.stringify({ ...base(), message: { role: 'assistant', content: scripted.partial } });
          return void res.write(body.slice(0, -20), () => res.destroy());
        }
        streamPieces(pieces(scripted.partial));
        return void res.end(); // no done:true line
      }
      case 'content':
      case 'json': {
        const content = scripted.kind === 'content' ? scripted.content : JSON.stringify(scripted.body);
        const chunks = pieces(content);
        const final = finalFields(content);
        if (!call.stream) {
          sent[index] = 1;
          return sendJson(res, 200, { ...base(), message: { role: 'assistant', content }, ...final });
        }
        streamPieces(chunks);
        sent[index] = (sent[index] ?? 0) + 1;
        return void res.end(`${JSON.stringify({ ...base(), message: { role: 'assistant', content: '' }, ...final })}\n`);
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    const route = `${req.method ?? 'GET'} ${path}`;
    requests.push({ method: req.method ?? 'GET', path });
    if (route === 'GET /' || route === 'HEAD /') {
      return void res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Ollama is running');
    }
    if (route === 'GET /api/version') return sendJson(res, 200, { version });
    if (route === 'GET /api/tags') {
      return sendJson(res, 200, {
        models: models.map((m) => ({
          name: m.name,
          model: m.name,
          modified_at: MODIFIED_AT,
          size: 986_061_892,
          digest: m.digest,
          details: details(m),
        })),
      });
    }
    if (route !== 'POST /api/show' && route !== 'POST /api/chat') {
      return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
    }
    const body = await readJson(req);
    if (typeof body === 'string') return sendJson(res, 400, { error: body });
    if (route === 'POST /api/show') {
      const name = body.model ?? body.name;
      if (typeof name !== 'string' || name === '') return sendJson(res, 400, { error: 'model is required' });
      const m = find(name);
      if (!m) return sendJson(res, 404, { error: `model '${name}' not found` });
      return sendJson(res, 200, {
        license: '',
        modelfile: `# Modelfile generated by "ollama show"\nFROM ${m.name}\n`,
        parameters: 'stop                           "<|im_start|>"\nstop                           "<|im_end|>"',
        template: '{{ .Prompt }}',
        details: details(m),
        model_info: { 'general.architecture': m.family ?? 'qwen2', 'general.parameter_count': 1_543_714_304 },
        capabilities: ['completion', 'tools'],
        modified_at: MODIFIED_AT,
      });
    }
    const call = toChatCall(body);
    if (typeof call === 'string') return sendJson(res, 400, { error: call });
    if (!find(call.model)) return sendJson(res, 404, { error: `model ${JSON.stringify(call.model)} not found, try pulling it first` });
    chats.push(call);
    answer(res, call, options.script(call, chats.length - 1), chats.length - 1);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(error) });
      else res.destroy();
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    chats,
    requests,
    sent,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
