import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EgressRefusedError } from '../../lib/errors.ts';
import { checkEgress } from '../../lib/remediate/egress-guard.ts';

const refused = (url: string, allow: string[] = []) => {
  try {
    checkEgress(url, allow);
    return false;
  } catch (error) {
    if (error instanceof EgressRefusedError) return true;
    throw error;
  }
};

describe('egress guard', () => {
  it('allows loopback and private addresses', () => {
    for (const url of [
      'http://127.0.0.1:11434',
      'http://localhost:11434',
      'http://127.8.9.10',
      'http://[::1]:11434',
      'http://10.1.2.3:11434',
      'http://172.16.0.1',
      'http://172.31.255.255',
      'http://192.168.1.20:11434',
      'http://[fd12:3456::1]:11434',
      'http://[::ffff:127.0.0.1]:11434',
    ]) {
      expect(refused(url), url).toBe(false);
    }
  });

  it('refuses public hosts, names not allow-listed, link-local metadata and odd URLs', () => {
    for (const url of [
      'http://8.8.8.8',
      'https://api.openai.com/v1',
      'http://ollama.example.com:11434',
      'http://172.32.0.1',
      'http://169.254.169.254/latest/meta-data',
      'http://[2001:4860:4860::8888]',
      'http://[::ffff:8.8.8.8]',
      'http://0.0.0.0:11434',
      'file:///etc/passwd',
      'ftp://10.0.0.1',
      'http://user:pw@127.0.0.1',
      'not a url',
      'http://127.0.0.1.nip.io',
      'http://localhost.evil.com',
    ]) {
      expect(refused(url), url).toBe(true);
    }
  });

  it('lets an operator allow-list a host by name or address', () => {
    expect(refused('http://ollama.internal.corp:11434')).toBe(true);
    expect(refused('http://ollama.internal.corp:11434', ['ollama.internal.corp'])).toBe(false);
    expect(refused('http://203.0.113.7:11434', ['203.0.113.7'])).toBe(false);
    expect(refused('http://203.0.113.8:11434', ['203.0.113.7'])).toBe(true);
  });

  it('refuses every public IPv4 address', () => {
    const isPrivate = (a: number, b: number) => a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const [a, b] = ip.split('.').map(Number) as [number, number];
        expect(refused(`http://${ip}:11434`)).toBe(!isPrivate(a, b));
      }),
    );
  });
});
