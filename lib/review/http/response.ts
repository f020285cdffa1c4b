/** A response in the HTTP API payload 2.0 shape (Function URLs and serverless-offline take the same); cookies go in `cookies`. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  cookies?: string[];
}

/** Headers of every answer: nothing cached, nothing framed, no script or remote resource, forms only to this origin. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** An HTML page answer. */
export function htmlResponse(statusCode: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { statusCode, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', ...headers }, body };
}

/** A short plain-text answer (the access refusals: they render nothing of the vault). */
export function textResponse(statusCode: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { statusCode, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers }, body: `${body}\n` };
}

/** 303 See Other to `location` (a path of this site), setting `cookies` if any. */
export function seeOther(location: string, cookies: string[] = []): HttpResponse {
  const response = textResponse(303, `see ${location}`, { location });
  return cookies.length > 0 ? { ...response, cookies } : response;
}
