import { createHmac } from 'node:crypto';

/**
 * Masks a value of a `pii` column before it leaves the function (in a prompt, a result, a
 * log): every digit becomes another digit, every letter an `x` of the same case, and all else
 * (length, punctuation, spaces) stays, so the shape the model must reason about is kept.
 * Digits come from a keyed hash of the value: the same value masks the same way within a
 * batch, and nothing of the original digits can be read back.
 */
export function maskValue(value: string, key: string): string {
  const stream = createHmac('sha256', key).update(value).digest();
  let i = 0;
  let out = '';
  for (const char of value) {
    if (/\p{Nd}/u.test(char)) {
      out += String(stream[i++ % stream.length]! % 10);
    } else if (/\p{L}/u.test(char)) {
      out += char === char.toUpperCase() && char !== char.toLowerCase() ? 'X' : 'x';
    } else {
      out += char;
    }
  }
  return out;
}
