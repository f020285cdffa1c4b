import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../lib/config.ts';
import { ConfigError, EgressRefusedError } from '../../lib/errors.ts';
import { maskValue } from '../../lib/remediate/mask-pii.ts';
import { modelFromConfig } from '../../lib/remediate/model/model-from-config.ts';
import { OllamaModel } from '../../lib/remediate/model/ollama-model.ts';

const settings = { model: 'm:1', timeoutMs: 1_000, retries: 0, allowHosts: [] as string[] };

describe('the model client and the perimeter', () => {
  it('refuses a public model host before any connection is made', async () => {
    const calls: string[] = [];
    const spy: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response('{}');
    };
    expect(() => new OllamaModel({ ...settings, host: 'https://api.example.com' }, spy)).toThrow(EgressRefusedError);
    expect(() => new OllamaModel({ ...settings, host: 'http://8.8.8.8:11434' }, spy)).toThrow(EgressRefusedError);
    expect(calls).toEqual([]);
  });

  it('allows loopback, private ranges, and names on the allow-list', () => {
    for (const host of ['http://127.0.0.1:11434', 'http://localhost:11434', 'http://10.0.4.2:11434', 'http://192.168.1.9:11434']) {
      expect(() => new OllamaModel({ ...settings, host })).not.toThrow();
    }
    expect(() => new OllamaModel({ ...settings, host: 'http://ollama.internal:11434' })).toThrow(EgressRefusedError);
    expect(() => new OllamaModel({ ...settings, host: 'http://ollama.internal:11434', allowHosts: ['ollama.internal'] })).not.toThrow();
  });

  it('turns a refused OLLAMA_HOST into a configuration error naming the variable; no host, no model tier', () => {
    expect(() => modelFromConfig(loadRuntimeConfig({ OLLAMA_HOST: 'https://api.example.com' }))).toThrow(ConfigError);
    expect(() => modelFromConfig(loadRuntimeConfig({ OLLAMA_HOST: 'https://api.example.com' }))).toThrow(/OLLAMA_HOST/);
    expect(modelFromConfig(loadRuntimeConfig({}))).toBeUndefined();
    expect(
      modelFromConfig(loadRuntimeConfig({ OLLAMA_HOST: 'http://ollama.lan:11434', OLLAMA_ALLOW_HOSTS: 'gpu.lan, ollama.lan' })),
    ).toBeDefined();
  });
});

describe('pii masking', () => {
  it('keeps the shape: digits stay digits, letters keep their case, everything else stays', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789abcXYZ -.@+()/éß'.split('')), maxLength: 40 }),
        fc.string(),
        (value, key) => {
          const masked = maskValue(value, key);
          expect([...masked]).toHaveLength([...value].length);
          [...value].forEach((c, i) => {
            const m = [...masked][i]!;
            if (/\d/.test(c)) expect(m).toMatch(/\d/);
            else if (/\p{L}/u.test(c)) expect(m).toBe(c === c.toUpperCase() && c !== c.toLowerCase() ? 'X' : 'x');
            else expect(m).toBe(c);
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('hides the digits: the same value masks alike under one key and differently under another', () => {
    const a = maskValue('4111 1111 1111 1111', 'k1');
    expect(a).toBe(maskValue('4111 1111 1111 1111', 'k1'));
    expect(a).not.toBe(maskValue('4111 1111 1111 1111', 'k2'));
    expect(a).not.toContain('1111 1111');
  });
});
