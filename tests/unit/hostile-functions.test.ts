import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateFunction } from '../../lib/remediate/lambda-gate.ts';
import { Sandbox, type ApplyResult } from '../../lib/remediate/sandbox.ts';
import { HOSTILE_FUNCTIONS } from '../support/hostile-functions.ts';

/**
 * Every hostile function against both layers: the gate must refuse it, or the sandbox must
 * stop it or show no sign of an escape. Every function also runs in the sandbox with the gate
 * bypassed, so the isolate is shown to hold on its own. Signs of an escape: the host's secret
 * canary in an output, a marker file written, a host prototype polluted, a run that does not
 * end, or an accepted function that answers differently twice.
 */
const CANARY = `canary-${process.pid}-${Date.now()}`;
const MARKER = '/tmp/vaultmend-escape-marker';
const POLLUTION = '__vaultmend_polluted';
const VALUES = ['a', ' hello world ', '12.0 oz.', '', `${'a'.repeat(40)}!`, null];
const ROWS = VALUES.map((value) => ({ a: value, b: 'x' }));
const sandbox = new Sandbox({ timeoutMs: 300, memoryMb: 32 });

function escaped(result: ApplyResult): string | undefined {
  if (JSON.stringify(result).includes(CANARY)) return 'the canary reached an output';
  if (existsSync(MARKER)) return 'the marker file was written';
  for (const proto of [Object.prototype, Array.prototype, String.prototype, Function.prototype]) {
    if (Object.hasOwn(proto, POLLUTION)) return 'a host prototype was polluted';
  }
  return undefined;
}

async function run(source: string): Promise<{ result: ApplyResult; ms: number }> {
  const started = performance.now();
  const result = await sandbox.apply(source, VALUES, ROWS);
  return { result, ms: performance.now() - started };
}

beforeAll(() => {
  process.env['VAULTMEND_CANARY'] = CANARY;
  rmSync(MARKER, { force: true });
});
afterAll(() => {
  delete process.env['VAULTMEND_CANARY'];
  sandbox.dispose();
});

describe('the hostile-function suite', () => {
  it('has at least 150 distinct entries', () => {
    expect(HOSTILE_FUNCTIONS.length).toBeGreaterThanOrEqual(150);
    expect(new Set(HOSTILE_FUNCTIONS.map((h) => h.name)).size).toBe(HOSTILE_FUNCTIONS.length);
  });

  it.each(HOSTILE_FUNCTIONS.map((h) => [`${h.category}/${h.name}`, h.source] as const))(
    '%s: refused, stopped, or harmless',
    async (_, source) => {
      const verdict = gateFunction(source);
      if (verdict.accepted) {
        const first = await run(verdict.source);
        expect(escaped(first.result)).toBeUndefined();
        expect(first.ms).toBeLessThan(10_000);
        if (!first.result.stopped)
          expect((await run(verdict.source)).result, 'an accepted function must be deterministic').toEqual(first.result);
      }
      // The isolate alone, gate bypassed.
      const direct = await run(source);
      expect(escaped(direct.result)).toBeUndefined();
      expect(direct.ms).toBeLessThan(10_000);
    },
  );

  it('summary: no escapes, and what stopped each entry', async () => {
    const tally: Record<string, number> = {};
    for (const hostile of HOSTILE_FUNCTIONS) {
      const verdict = gateFunction(hostile.source);
      const outcome = verdict.accepted ? (await run(verdict.source)).result : undefined;
      const key = !verdict.accepted ? `gate:${verdict.reason}` : outcome?.stopped ? `sandbox:${outcome.limit}` : 'ran-harmlessly';
      tally[key] = (tally[key] ?? 0) + 1;
    }
    console.info('hostile functions:', JSON.stringify(tally));
    expect(Object.values(tally).reduce((a, b) => a + b, 0)).toBe(HOSTILE_FUNCTIONS.length);
  });
});
