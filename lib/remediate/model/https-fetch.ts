import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose response has no body (a Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * A `fetch` over node:https whose connections trust exactly `ca` (give it the default roots too:
 * lib/tls.ts trustedCas), for a model server behind a private CA. Node's global fetch (undici)
 * takes a CA only through an undici dispatcher, and undici is no dependency of vaultmend.
 * Certificate and host-name verification stay on. The response body streams (Ollama's NDJSON),
 * and the request's signal aborts the request and its body. https URLs only.
 */
export function fetchTrusting(ca: string[]): typeof fetch {
  const agent = new Agent({ ca, keepAlive: true });
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.protocol !== 'https:') throw new TypeError(`fetchTrusting serves https URLs only, not ${url.protocol}`);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    return send(url, request, body, agent);
  };
}

function send(url: URL, request: Request, body: Buffer | undefined, agent: Agent): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    if (body) headers['content-length'] = String(body.length);
    const req = httpsRequest(url, { method: request.method, headers, agent, signal: request.signal }, (res) => resolve(toResponse(res)));
    req.once('error', reject);
    req.end(body);
  });
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const one of Array.isArray(value) ? value : [value ?? '']) headers.append(name, one);
  }
  const status = res.statusCode ?? 502;
  const init = { status, statusText: res.statusMessage ?? '', headers };
  if (NO_BODY.has(status)) {
    res.resume();
    return new Response(null, init);
  }
  return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init);
}
