import type { ReviewHttpEvent } from './event.ts';

/** A request as the router reads it: method, path (no trailing slash), query, lower-cased headers, cookies, form fields. */
export interface ReviewRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  cookies: Map<string, string>;
  /** The body's fields when it is `application/x-www-form-urlencoded`, else null. */
  form: URLSearchParams | null;
}

function cookieJar(event: ReviewHttpEvent, headers: Record<string, string>): Map<string, string> {
  const pairs = [...(event.cookies ?? []), ...(headers['cookie'] ?? '').split(';')];
  const jar = new Map<string, string>();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    if (!jar.has(name)) jar.set(name, pair.slice(at + 1).trim());
  }
  return jar;
}

function formOf(event: ReviewHttpEvent, headers: Record<string, string>): URLSearchParams | null {
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return null;
  const body = event.body ?? '';
  return new URLSearchParams(event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body);
}

/** The request an API Gateway v2 event carries (header names lower-cased, the `cookies` array and a Cookie header both read). */
export function readRequest(event: ReviewHttpEvent): ReviewRequest {
  const headers = Object.fromEntries(Object.entries(event.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const path = event.rawPath.length > 1 ? event.rawPath.replace(/\/+$/, '') || '/' : event.rawPath;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path,
    query: new URLSearchParams(event.rawQueryString),
    headers,
    cookies: cookieJar(event, headers),
    form: formOf(event, headers),
  };
}
