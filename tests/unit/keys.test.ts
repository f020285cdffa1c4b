import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsafeKeyError } from '../../lib/errors.ts';
import { batchId, parseRawKey } from '../../lib/keys.ts';

describe('raw keys', () => {
  it('parses raw/<stream>/<file>', () => {
    expect(parseRawKey('raw/orders/2026/11/a b.csv')).toEqual({ stream: 'orders', file: '2026/11/a b.csv' });
  });

  it('keeps a percent sign that decodes to nothing unsafe', () => {
    expect(parseRawKey('raw/orders/50%-off.csv').file).toBe('50%-off.csv');
    expect(parseRawKey('raw/orders/a%20b.csv').file).toBe('a%20b.csv');
  });

  it.each([
    ['manifests/x/ingest.json', /not under raw/],
    ['raw/orders/../../manifests/x.csv', /relative path/],
    ['raw/./orders/x.csv', /relative path/],
    ['raw/orders//x.csv', /empty path segment/],
    ['raw/Orders/x.csv', /stream name/],
    ['raw/-orders/x.csv', /stream name/],
    ['raw/orders', /no file/],
    ['raw/orders/x\u0000.csv', /control character/],
    ['raw/orders/x\n.csv', /control character/],
    ['raw/orders\\x.csv', /backslash/],
    [`raw/orders/${'a'.repeat(2000)}`, /longer than/],
    ['raw/orders/%2e%2e/x.csv', /percent-encoded/],
    ['raw/orders/%252E%252E/x.csv', /percent-encoded/],
    ['raw/orders/..%2F..%2Fmanifests.csv', /percent-encoded/],
  ])('refuses %j', (key, why) => {
    expect(() => parseRawKey(key)).toThrow(UnsafeKeyError);
    expect(() => parseRawKey(key)).toThrow(why);
  });

  it('refuses any key with a `..` segment, wherever it is', () => {
    const segment = fc.stringMatching(/^[a-z0-9 ._-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), fc.array(segment, { maxLength: 4 }), (before, after) => {
        const key = ['raw', 'orders', ...before, '..', ...after, 'x.csv'].join('/');
        expect(() => parseRawKey(key)).toThrow(UnsafeKeyError);
      }),
    );
  });
});

describe('batch ids', () => {
  const sha = 'a'.repeat(64);
  it('depend on the stream and the content only', () => {
    expect(batchId('orders', sha)).toBe(batchId('orders', sha));
    expect(batchId('orders', sha)).not.toBe(batchId('refunds', sha));
    expect(batchId('orders', sha)).not.toBe(batchId('orders', 'b'.repeat(64)));
    expect(batchId('orders', sha)).toMatch(/^orders-[0-9a-f]{20}$/);
  });
});
