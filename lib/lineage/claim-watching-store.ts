import type { ObjectStore } from '../store/object-store.ts';
import { ClaimSchema, type Claim } from '../vault/claims.ts';

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * The store as a step sees it, reporting every claim this invocation wins: a first-writer-wins
 * write under `claims/` that created the object calls `onClaim` (awaited) before the step goes on.
 * Everything else passes straight through to `store`.
 *
 * @example
 * const store = claimWatchingStore(vault, async (claim) => console.log('working on', claim.scope));
 * await clusterOnce({ ...deps, store }, manifestKey);
 */
export function claimWatchingStore(store: ObjectStore, onClaim: (claim: Claim) => Promise<void>): ObjectStore {
  const putIfAbsent: ObjectStore['putIfAbsent'] = async (key, body, options) => {
    const written = await store.putIfAbsent(key, body, options);
    if (written.created && key.startsWith('claims/')) {
      const claim = ClaimSchema.safeParse(parsed(body));
      if (claim.success) await onClaim(claim.data);
    }
    return written;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'putIfAbsent') return putIfAbsent;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
