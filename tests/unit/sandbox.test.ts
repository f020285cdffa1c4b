import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox, wallBoundMs } from '../../lib/remediate/sandbox.ts';

const sandbox = new Sandbox({ timeoutMs: 500, memoryMb: 32 });
afterAll(() => sandbox.dispose());

describe('the sandbox', () => {
  it('applies a function to every value in one call and keeps the order', async () => {
    const values = Array.from({ length: 250_000 }, (_, i) => ` ${i} `);
    const result = await sandbox.apply('x => Number(x.trim()) * 2', values);
    expect(result.stopped).toBe(false);
    if (result.stopped) return;
    expect(result.outputs).toHaveLength(values.length);
    expect(result.outputs[0]).toBe(0);
    expect(result.outputs[249_999]).toBe(499_998);
    expect(result.errors).toEqual([]);
  });

  it('reports the values a function throws on, by index, and keeps going', async () => {
    const result = await sandbox.apply('x => x.trim()', ['a ', null, ' b']);
    expect(result).toEqual({ stopped: false, outputs: ['a', null, 'b'], errors: [[1, 'TypeError']] });
  });

  it('gives a row-level function its row and takes several columns back', async () => {
    const result = await sandbox.apply(
      '(v, row) => { const i = v.lastIndexOf(" "); return { city: v.slice(0, i), state: row.state ?? v.slice(i + 1) }; }',
      ['San Francisco CA', 'Austin TX'],
      [
        { city: 'San Francisco CA', state: null },
        { city: 'Austin TX', state: 'TX' },
      ],
    );
    expect(result).toEqual({
      stopped: false,
      outputs: [
        { city: 'San Francisco', state: 'CA' },
        { city: 'Austin', state: 'TX' },
      ],
      errors: [],
    });
  });

  it('refuses outputs that are not plain values', async () => {
    const result = await sandbox.apply('x => x === "f" ? (() => 1) : x === "a" ? [1] : x === "n" ? Infinity : { a: { b: 1 } }', [
      'f',
      'a',
      'n',
      'o',
    ]);
    expect(result.stopped).toBe(false);
    if (!result.stopped) expect(result.errors.map(([, e]) => e)).toEqual(['bad-output', 'bad-output', 'bad-output', 'bad-output']);
  });

  it('stops an endless loop at the time limit, and the isolate serves the next function', async () => {
    const started = Date.now();
    const result = await sandbox.apply('x => { while (true) {} }', ['a']);
    expect(result).toMatchObject({ stopped: true, limit: 'timeout' });
    // The limit is CPU time: on a busy machine finding that out takes longer, within the load policy's bound.
    expect(Date.now() - started).toBeLessThan(wallBoundMs(sandbox.limits, 1) + 3_000);
    expect(await sandbox.apply('x => x + 1', ['a'])).toEqual({ stopped: false, outputs: ['a1'], errors: [] });
  });

  it('stops a memory bomb at the memory limit and makes a new isolate', async () => {
    const result = await sandbox.apply('x => { const a = []; for (;;) a.push(new Array(1e5).fill(x)); }', ['a']);
    expect(result).toMatchObject({ stopped: true, limit: 'memory' });
    expect(await sandbox.apply('x => x.toUpperCase()', ['a'])).toEqual({ stopped: false, outputs: ['A'], errors: [] });
  });

  it('stops a function whose outputs add up to too much', async () => {
    const result = await sandbox.apply(
      'x => x.repeat(4000)',
      Array.from({ length: 3_000 }, () => 'x'),
    );
    expect(result).toMatchObject({ stopped: true, limit: 'output-too-large' });
  });

  it('cuts one over-long output', async () => {
    const result = await sandbox.apply('x => x.repeat(10000)', ['x']);
    expect(result).toEqual({ stopped: false, outputs: [null], errors: [[0, 'bad-output']] });
  });

  it('has no Node APIs, no WebAssembly, a still clock and seeded randomness', async () => {
    const probe =
      '_ => [typeof process, typeof require, typeof WebAssembly, typeof setTimeout, typeof fetch, Date.now(), new Date().getTime(), String(Math.random())].join("|")';
    const first = await sandbox.apply(probe, ['a']);
    const second = await sandbox.apply(probe, ['a']);
    expect(first).toEqual(second);
    expect(first.stopped ? '' : first.outputs[0]).toMatch(/^undefined\|undefined\|undefined\|undefined\|undefined\|0\|0\|0\.\d+$/);
  });

  it('gives each call its row without a prototype: a column named constructor is its text, nothing else is there', async () => {
    const probe =
      '(x, row) => [typeof row["constructor"], String(row["constructor"] ?? "-"), typeof row["toString"], typeof row["__proto__"]].join()';
    expect(await sandbox.apply(probe, ['a', 'b'], [{ constructor: 'c1' }, { other: 'o' }])).toEqual({
      stopped: false,
      outputs: ['string,c1,undefined,undefined', 'undefined,-,undefined,undefined'],
      errors: [],
    });
  });

  it('keeps one function from changing the built-ins another one sees', async () => {
    await sandbox.apply('x => { String.prototype.trim = () => "owned"; return x; }', ['a']);
    expect(await sandbox.apply('x => x.trim()', [' a '])).toEqual({ stopped: false, outputs: ['a'], errors: [] });
  });

  it('has no code-from-text constructors, even for a function the gate would refuse', async () => {
    const probe = 'x => [typeof (() => 1).constructor, typeof (function* () {}).constructor, typeof x.constructor.constructor].join()';
    expect(await sandbox.apply(probe, ['a'])).toEqual({ stopped: false, outputs: ['undefined,undefined,undefined'], errors: [] });
  });

  it('reports a function that does not compile', async () => {
    expect(await sandbox.apply('x => x +', ['a'])).toMatchObject({ stopped: true, limit: 'compile-error' });
  });
});

describe('the sandbox process', () => {
  it('survives a function that makes V8 abort or grind: the call is stopped and the next call gets a new process', async () => {
    const own = new Sandbox({ timeoutMs: 2_000 });
    try {
      const result = await own.apply('x => new Array(1e9).fill(0).length', ['a']);
      expect(result).toMatchObject({ stopped: true });
      if (result.stopped) expect(['crashed', 'memory', 'timeout']).toContain(result.limit);
      expect(await own.apply('x => x + "!"', ['a'])).toEqual({ stopped: false, outputs: ['a!'], errors: [] });
    } finally {
      own.dispose();
    }
  });
});
