import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gateFunction } from '../../lib/remediate/lambda-gate.ts';

const accepted = [
  'x => x.trim()',
  // The row has no prototype: a column may be named like a property.
  '(x, row) => row["raw"] ?? x',
  '(x, row) => row["constructor"] === null ? x : row["constructor"]',
  'x => x === "N/A" ? null : x',
  "x => parseFloat(x.replace(/[^0-9.\\-]/g, ''))",
  'v => Number(Number(v.replace("%", "")).toFixed(6))',
  '(value, row) => { const parts = value.trim().split(" "); return { city: parts.slice(0, -1).join(" "), state: parts[parts.length - 1] }; }',
  'x => { const m = /^(\\d{2})\\/(\\d{2})\\/(\\d{4})$/.exec(x); if (!m) return x; return `${m[3]}-${m[1]}-${m[2]}`; }',
  'x => x.split(/\\s+/).map(w => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join(" ")',
  'x => new Date(Date.UTC(2020, 0, 1)).toISOString()',
  's => s?.toLowerCase() ?? null',
  "(x) => { let y = x; y = y.replaceAll('  ', ' '); return y; }",
];

const rejected: [string, string][] = [
  ['', 'empty'],
  ['lambda x: x.strip()', 'python-lambda'],
  ['x => x +', 'parse-error'],
  ['function (x) { return x; }', 'parse-error'],
  ['function f(x) { return x; }', 'not-one-arrow-function'],
  ['x => x; process.exit(1)', 'not-one-arrow-function'],
  ['(x => x)(process.exit(1))', 'not-one-arrow-function'],
  ['async x => x', 'async-or-generator'],
  ['() => 1', 'bad-parameters'],
  ['(a, b, c, d) => a', 'bad-parameters'],
  ['(x, row, lookup) => { lookup = row; return lookup[x]; }', 'forbidden-syntax'],
  ['(x, row, lookup) => lookup[x]()', 'forbidden-call'],
  ['(x, row) => row[x]', 'forbidden-syntax'],
  ['(x, row) => row.constructor', 'forbidden-property'],
  ['(x, row) => { row = x; return row["constructor"]; }', 'forbidden-syntax'],
  ['(x, row) => [row].map((r, row) => row["constructor"])', 'forbidden-property'],
  ['(x, row) => x["constructor"]', 'forbidden-property'],
  ['(x, y = process.exit()) => x', 'bad-parameters'],
  ['({a}) => a', 'bad-parameters'],
  ['x => x.constructor.constructor("return process")()', 'forbidden-property'],
  ['x => x["con" + "structor"]', 'forbidden-syntax'],
  ['x => x["__proto__"]', 'forbidden-property'],
  ['x => x.\\u0063onstructor', 'forbidden-property'],
  ['x => ({ __proto__: x })', 'forbidden-property'],
  ['x => ({ get a() { return 1; } })', 'forbidden-syntax'],
  ['x => process.env.SECRET', 'forbidden-identifier'],
  ['x => globalThis', 'forbidden-identifier'],
  ['x => require("fs")', 'forbidden-identifier'],
  ['x => this', 'forbidden-syntax'],
  ['x => eval(x)', 'forbidden-identifier'],
  ['x => { while (true) {} }', 'forbidden-syntax'],
  ['x => { for (;;) {} }', 'forbidden-syntax'],
  ['x => String.raw`${x}`', 'forbidden-syntax'],
  ['x => Math.random()', 'forbidden-property'],
  ['x => Date.now()', 'forbidden-property'],
  ['x => new Date()', 'forbidden-call'],
  ['x => new Proxy({}, {})', 'forbidden-call'],
  ['x => Math.max.apply(null, x)', 'forbidden-property'],
  ['x => x.toString.call(x)', 'forbidden-property'],
  ['x => Object.keys(x)', 'forbidden-identifier'],
  ['x => Math(x)', 'forbidden-call'],
  ['x => x.sort()', 'forbidden-call'],
  ['x => { x.y = 1; return x; }', 'forbidden-syntax'],
  ['x => delete x.y', 'forbidden-syntax'],
  ['x => import("fs")', 'forbidden-syntax'],
  ['x => [...x]', 'forbidden-syntax'],
  ['x => { var y = x; return y; }', 'forbidden-syntax'],
  ['x => 10n', 'forbidden-syntax'],
  ['(x, eval) => eval', 'forbidden-identifier'],
  // Found in review: an object literal passing for a string, a name leaking out of its block, a built-in called through a local name.
  ["(value) => { const o = { length: 'constructor' }; return value[o.length][o.length]; }", 'forbidden-property'],
  ['(value) => { if (value) { const Reflect = 0; } const get = Reflect.get; return get; }', 'forbidden-identifier'],
  ['(value) => { const f = (JSON, Reflect) => 0; return Reflect; }', 'forbidden-identifier'],
  ['(v) => { const f = String.fromCodePoint; return f(65); }', 'forbidden-call'],
  ['(v) => { const D = Date; return D(); }', 'forbidden-call'],
  ['(v) => ({ map: Array.from }).map("abc")', 'forbidden-property'],
  [`x => x${'.trim()'.repeat(400)}`, 'too-long'],
  [`x => ${'['.repeat(60)}x${']'.repeat(60)}`, 'too-complex'],
];

describe('the lambda gate', () => {
  it.each(accepted)('accepts %s', (source) => {
    expect(gateFunction(source)).toEqual({ accepted: true, source });
  });

  it.each(rejected)('rejects %s', (source, reason) => {
    const verdict = gateFunction(source);
    expect(verdict.accepted).toBe(false);
    if (!verdict.accepted) expect(verdict.reason).toBe(reason);
  });

  it('answers every input with a verdict and never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const verdict = gateFunction(`x => ${text}`);
        expect(typeof verdict.accepted).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('never accepts a function that names a forbidden property, however it is spelled', () => {
    const names = ['constructor', '__proto__', 'prototype', 'call', 'apply', 'bind'];
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.constantFrom('x.%s', 'x["%s"]', "x['%s']", 'x?.%s', '({%s: x})'), (name, template) => {
        expect(gateFunction(`x => ${template.replace('%s', name)}`).accepted).toBe(false);
      }),
    );
  });
});
