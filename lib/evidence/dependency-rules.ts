import type { Contract } from '../contract/contract.ts';

/**
 * One dependency as the evidence step runs it: declared in the contract, or discovered and
 * allowed to act by the contract's `discover`. Its id names it in reasons' evidence, clusters and
 * audit lines: `zip->city`, `provider_number+measure_code->score`.
 */
export interface DependencyRule {
  id: string;
  determinant: string[];
  dependent: string;
  source?: string;
  min_support: number;
  min_share: number;
  origin: 'declared' | 'discovered';
}

/** Rows that must carry a winning value before it is evidence, unless the contract says otherwise. */
export const DEFAULT_MIN_SUPPORT = 2;
/** Share of the votes a winning value needs before it is acted on, unless the contract says otherwise. */
export const DEFAULT_MIN_SHARE = 0.6;

/** The id of a dependency: its determinant columns joined by `+`, then `->` and the dependent. */
export function dependencyId(determinant: string[], dependent: string): string {
  return `${determinant.join('+')}->${dependent}`;
}

/**
 * The contract's declared dependencies, with defaults filled in.
 *
 * @example
 * dependencyRules(contract).map((r) => r.id); // ['provider_number->city', 'zip->city']
 */
export function dependencyRules(contract: Contract): DependencyRule[] {
  const canonical = new Map(contract.columns.map((c) => [c.name.toLowerCase(), c.name]));
  const name = (n: string) => canonical.get(n.toLowerCase()) ?? n;
  return contract.tests.flatMap((t) => {
    if (t.type !== 'dependency') return [];
    const determinant = t.determinant.map(name);
    const dependent = name(t.dependent);
    return [
      {
        id: dependencyId(determinant, dependent),
        determinant,
        dependent,
        ...(t.source ? { source: name(t.source) } : {}),
        min_support: t.min_support ?? DEFAULT_MIN_SUPPORT,
        min_share: t.min_share ?? DEFAULT_MIN_SHARE,
        origin: 'declared' as const,
      },
    ];
  });
}
