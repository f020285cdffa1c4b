import { createHash } from 'node:crypto';
import type { Candidate } from './candidate.ts';

/**
 * An evidence function: "the group's dominant value" as a gated, sandboxed arrow function whose
 * lookup table (group key -> the value the group's evidence supports) is part of it. The table's
 * SHA-256 is written into the source, so every audit line that names the function names the
 * exact evidence it applied; `measure` refuses a table whose digest is not the one named.
 *
 * @example
 * const c = evidenceCandidate('provider_number->city', ['provider_number'], { '10018': 'birmingham' });
 * // c.source: (x, row, lookup) => { const evidence = "sha256:…"; … }
 */

/** The SHA-256 of a lookup table, over its entries sorted by key (so insertion order does not matter). */
export function lookupDigest(lookup: Record<string, string>): string {
  const entries = Object.keys(lookup)
    .sort()
    .map((k) => [k, lookup[k]]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

/** The digest an evidence function's source names, or undefined when it names none. */
export function namedDigest(source: string): string | undefined {
  return /const evidence = "sha256:([0-9a-f]{64})";/.exec(source)?.[1];
}

/** The separator of a group key's parts, as in lib/evidence (a JS string escape). */
const SEPARATOR = '\\u001f';

/** The candidate that gives each cell the value its group's evidence supports (unchanged where the table has none). */
export function evidenceCandidate(name: string, determinant: string[], lookup: Record<string, string>): Candidate {
  const parts = determinant.map((c) => `row[${JSON.stringify(c)}]`);
  const key =
    parts.length === 1
      ? `const k = ${parts[0]}; if (k === null) return x;`
      : `const p = [${parts.join(', ')}]; if (p.includes(null)) return x; const k = p.join("${SEPARATOR}");`;
  return {
    name,
    source: `(x, row, lookup) => { const evidence = "sha256:${lookupDigest(lookup)}"; ${key} const v = lookup[k]; return typeof v === "string" ? v : x; }`,
    reads: determinant,
    lookup,
  };
}

/** The candidate that gives each domain outlier the one frequent value it is an edit away from (unchanged otherwise). */
export function domainCandidate(name: string, lookup: Record<string, string>): Candidate {
  return {
    name,
    source: `(x, row, lookup) => { const evidence = "sha256:${lookupDigest(lookup)}"; if (x === null) return x; const v = lookup[x]; return typeof v === "string" ? v : x; }`,
    lookup,
  };
}
