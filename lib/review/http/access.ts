import type { ReviewRequest } from './request.ts';
import { sameToken } from './token.ts';

/** The cookie that carries the operator token after a `?token=` visit. */
export const OPERATOR_COOKIE = 'vaultmend_operator';

/**
 * Whether a request may see or change anything: `off` (no token configured), `denied`, `granted`,
 * or `set-cookie` (a GET with the right `?token=`: answered with a redirect that drops it from the URL).
 */
export type Access = { kind: 'off' } | { kind: 'denied' } | { kind: 'granted' } | { kind: 'set-cookie'; cookie: string; location: string };

function bearer(request: ReviewRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers['authorization'] ?? '');
  return match?.[1];
}

function cookieToken(request: ReviewRequest): string | undefined {
  const raw = request.cookies.get(OPERATOR_COOKIE);
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function tokenCookie(token: string, request: ReviewRequest): string {
  const secure = (request.headers['x-forwarded-proto'] ?? '').toLowerCase() === 'https' ? '; Secure' : '';
  return `${OPERATOR_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/review${secure}`;
}

const granted = (ok: boolean): Access => (ok ? { kind: 'granted' } : { kind: 'denied' });

/**
 * A path fit for a Location header: visible ASCII only. API Gateway HTTP APIs deliver `rawPath`
 * percent-decoded, so a CR/LF (header injection) or a non-Latin-1 character (which Node refuses in a
 * header) can reach it.
 */
const HEADER_SAFE_PATH = /^[\x21-\x7e]+$/;

/** A `?token=` visit: the cookie set and a redirect to the same path (a review path only) without the query. */
function queryAccess(request: ReviewRequest, expected: string, token: string): Access {
  if (!sameToken(expected, token)) return { kind: 'denied' };
  const location = request.path.startsWith('/review') && HEADER_SAFE_PATH.test(request.path) ? request.path : '/review';
  return { kind: 'set-cookie', cookie: tokenCookie(expected, request), location };
}

/**
 * The operator check. GET: `Authorization: Bearer`, the cookie, or `?token=`. POST: the form's
 * `token` field or `Authorization: Bearer` only — a cookie alone never authorises a change, so a
 * link or another site's form cannot make one.
 */
export function checkAccess(request: ReviewRequest, expected: string | undefined): Access {
  if (!expected) return { kind: 'off' };
  if (request.method !== 'GET')
    return granted(sameToken(expected, request.form?.get('token') ?? undefined) || sameToken(expected, bearer(request)));
  const query = request.query.get('token');
  if (query !== null) return queryAccess(request, expected, query);
  return granted(sameToken(expected, bearer(request)) || sameToken(expected, cookieToken(request)));
}
