import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lib/keys.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { claimWork, releaseClaim, withClaim } from '../../lib/vault/claims.ts';

/** First-writer-wins claims over a real file-system store: racing deliveries, leases, takeover. */
let dir: string;
let store: FileObjectStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vm-claims-'));
  store = new FileObjectStore(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('putIfAbsent', () => {
  it('lets exactly one of many racing writers win, and every writer learns the same winner', async () => {
    const outcomes = await Promise.all(Array.from({ length: 25 }, (_, i) => store.putIfAbsent('race/one.json', `writer ${i}`)));
    const winners = outcomes.filter((o) => o.created);
    expect(winners).toHaveLength(1);
    const winner = outcomes.findIndex((o) => o.created);
    expect(new Set(outcomes.map((o) => o.text))).toEqual(new Set([`writer ${winner}`]));
    expect(await store.readFirst('race/one.json')).toBe(`writer ${winner}`);
    expect(await store.list('race/')).toEqual(['race/one.json']);
  });
});

describe('claimWork', () => {
  it('gives the work to one of many racing deliveries; the others learn who holds it', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => claimWork(store, 'b1/reconcile', { leaseMs: 60_000, holder: `h${i}` })),
    );
    const held = outcomes.filter((o) => o.held);
    expect(held).toHaveLength(1);
    const holder = held[0]!.held ? held[0]!.claim.holder : '';
    for (const o of outcomes) if (!o.held) expect(o.by.holder).toBe(holder);
  });

  it('is taken over once the lease has run out, by one taker only', async () => {
    let clock = Date.parse('2026-12-01T10:00:00Z');
    const now = () => new Date(clock);
    const first = await claimWork(store, 'b2/reconcile', { leaseMs: 1_000, holder: 'dead', now });
    expect(first.held).toBe(true);
    expect((await claimWork(store, 'b2/reconcile', { leaseMs: 1_000, holder: 'early', now })).held).toBe(false);
    clock += 1_500;
    const takers = await Promise.all(['t1', 't2', 't3'].map((holder) => claimWork(store, 'b2/reconcile', { leaseMs: 1_000, holder, now })));
    const took = takers.filter((t) => t.held);
    expect(took).toHaveLength(1);
    expect(took[0]!.held && took[0]!.claim.generation).toBe(1);
    expect(took[0]!.held && took[0]!.takenOver?.holder).toBe('dead');
    expect(JSON.parse(readFileSync(join(dir, keys.claim('b2/reconcile', 0)), 'utf8')).holder).toBe('dead');
  });

  it('is free at once when its holder released it after a failure', async () => {
    await expect(
      withClaim(store, 'b3/remediate/c1', { leaseMs: 600_000, holder: 'failing' }, async () => {
        throw new Error('store outage');
      }),
    ).rejects.toThrow('store outage');
    const retry = await claimWork(store, 'b3/remediate/c1', { leaseMs: 600_000, holder: 'retry' });
    expect(retry.held && retry.claim.generation).toBe(1);
  });

  it('keeps a live claim even when asked by its own scope again (no second holder)', async () => {
    const a = await claimWork(store, 'b4/cluster', { leaseMs: 600_000, holder: 'a' });
    expect(a.held).toBe(true);
    const b = await claimWork(store, 'b4/cluster', { leaseMs: 600_000, holder: 'b' });
    expect(b.held).toBe(false);
    if (a.held) await releaseClaim(store, a.claim);
    expect((await claimWork(store, 'b4/cluster', { leaseMs: 600_000, holder: 'b' })).held).toBe(true);
  });
});
