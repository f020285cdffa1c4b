import type { LineageRun } from './lineage-run.ts';

/** The claim scopes of lib/vault/claims.ts (`claimScopes`), read back: `<batch>/<step>[/<cluster>]`. */
const SCOPES: Array<[RegExp, (m: RegExpExecArray) => LineageRun]> = [
  [/^([^/]+)\/(ingest|cluster|reconcile)$/, (m) => ({ step: m[2] as 'ingest' | 'cluster' | 'reconcile', batch: m[1]! })],
  [/^([^/]+)\/remediate\/(c-[0-9a-f]{16})$/, (m) => ({ step: 'remediate', batch: m[1]!, qualifier: m[2]! })],
  [/^([^/]+)\/review\/(c-[0-9a-f]{16})$/, (m) => ({ step: 'remediate', batch: m[1]!, qualifier: `${m[2]!}.reviewed` })],
  [/^([^/]+)\/reconcile-r([1-9][0-9]*)$/, (m) => ({ step: 'reconcile', batch: m[1]!, qualifier: `r${m[2]!}` })],
];

/**
 * The run a step's claim begins: a step claims its work (first writer wins) right before doing
 * it, so a won claim is the START of that run. Re-remediating a reviewed cluster is a remediate
 * run of its own (`<cluster>.reviewed`), a reconcile revision n one of reconcile (`r<n>`).
 * Undefined for a scope that is no step's.
 *
 * @example
 * runOfClaim('orders-0123456789abcdef0123/remediate/c-0123456789abcdef');
 * // { step: 'remediate', batch: 'orders-0123456789abcdef0123', qualifier: 'c-0123456789abcdef' }
 */
export function runOfClaim(scope: string): LineageRun | undefined {
  for (const [pattern, run] of SCOPES) {
    const match = pattern.exec(scope);
    if (match) return run(match);
  }
  return undefined;
}
