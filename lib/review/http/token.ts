import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Whether a presented token is the operator token, in constant time (both hashed first, so lengths never leak). */
export function sameToken(expected: string, presented: string | undefined): boolean {
  if (presented === undefined || presented === '') return false;
  return timingSafeEqual(digest(expected), digest(presented));
}
