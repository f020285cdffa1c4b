import type { Column, Contract } from '../contract/contract.ts';
import type { Candidate } from './candidate.ts';
import { clockTimeCandidates, dateCandidates } from './date-time-candidates.ts';
import { COMMON_NULL_TOKENS, declaredScale, tokenShape, type Rounding } from './guards.ts';

/**
 * The synthesizer's library of typed transformations, as candidate functions for one column.
 * Nothing here knows any data set: each candidate follows from the column's contract (type,
 * pattern, allowed values, format, scale and rounding, nullability). Simplest first: on equal
 * pass rates the earlier candidate wins.
 */
const js = (value: unknown) => JSON.stringify(value);
/** Thousands separators: a comma followed by exactly three digits. */
const UNGROUP = String.raw`.replace(/(\d),(?=\d{3}(?:\D|$))/g, "$1")`;

/**
 * Candidates that delete or replace visible characters (a mangled letter of a name, an accent): the
 * value they make passes the contract but is still not the value that was meant ("Bj?rkelund" is
 * neither "Bjrkelund" nor "Björkelund"). Never applied alone: a person sees the proposal.
 */
export const LOSSY_CANDIDATES: ReadonlySet<string> = new Set(['drop-diacritics', 'drop-non-ascii']);

function textCandidates(column: Column): Candidate[] {
  const candidates: Candidate[] = [
    { name: 'trim', source: 'x => x.trim()' },
    { name: 'collapse-whitespace', source: String.raw`x => x.trim().replace(/\s+/g, " ")` },
    { name: 'lower-case', source: String.raw`x => x.trim().replace(/\s+/g, " ").toLowerCase()` },
    { name: 'upper-case', source: String.raw`x => x.trim().replace(/\s+/g, " ").toUpperCase()` },
    {
      name: 'title-case',
      source: String.raw`x => x.trim().replace(/\s+/g, " ").split(" ").map(w => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join(" ")`,
    },
    { name: 'drop-diacritics', source: String.raw`x => x.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")` },
    { name: 'drop-non-ascii', source: String.raw`x => x.replace(/[^\x20-\x7e]/g, "")` },
    {
      name: 'drop-control-characters',
      source: String.raw`x => x.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/g, "")`,
    },
  ];
  if (column.pattern && patternFindsText(column.pattern)) {
    candidates.push({
      name: 'extract-pattern',
      // A whole token only: a match glued to a letter or digit ("x7%" in a score) is part of a garbled value, not the value.
      source: `x => { const all = x.match(/(?<![A-Za-z0-9])${jsRegexBody(column.pattern)}(?![A-Za-z0-9])/g); return all !== null && all.length === 1 ? all[0] : x; }`,
    });
  }
  return candidates;
}

/** A contract pattern as the body of a JS regex literal (slashes escaped). */
function jsRegexBody(pattern: string): string {
  return `(?:${pattern.replace(/(^|[^\\])\//g, '$1\\/')})`;
}

/** Whether the pattern is usable to find text inside a value: valid in JS and never matching the empty string. */
function patternFindsText(pattern: string): boolean {
  try {
    return !new RegExp(`^(?:${pattern})$`).test('') && jsRegexBody(pattern).length < 400;
  } catch {
    return false;
  }
}

function nullTokenCandidate(column: Column, contract: Contract): Candidate[] {
  if (!column.nullable || column.primary_key) return [];
  const tokens = [...new Set([...COMMON_NULL_TOKENS, ...contract.format.null_tokens.map((t) => t.toLowerCase())])];
  return [{ name: 'null-token', source: `x => ${js(tokens)}.includes(x.trim().toLowerCase()) ? null : x` }];
}

/** How a number's extra fraction digits round up: float noise only (no rounding named), or as the contract names it. */
const ROUNDS_UP: Record<Rounding | 'noise-only', string> = {
  'noise-only': 'r.charAt(0) === "9"',
  'half-up': 'r.charAt(0) >= "5"',
  'half-even': 'r.charAt(0) > "5" || (r.charAt(0) === "5" && (r.length > 1 || Number(k.slice(-1)) % 2 === 1))',
};

/**
 * JS statements turning `t` (one plain number's text) into the column's value with every digit
 * kept: leading zeros and trailing fraction zeros go (the value is the same), nothing else. With
 * a declared scale, digits beyond it are cut only when they are float noise, or rounded when the
 * contract names the rounding; otherwise the value is returned unchanged (it goes to review).
 * All on the text: a double would change digits.
 */
function numberBody(scale: number | undefined, rounding: Rounding | undefined): string {
  const parse = String.raw`const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(t); if (m === null) return x; const w = m[2].replace(/^0+(?=\d)/, ""); const f = (m[3] ?? "").replace(/0+$/, "");`;
  const exact = 'return (m[1] === "-" && /[1-9]/.test(w + f) ? "-" : "") + w + (f === "" ? "" : "." + f);';
  if (scale === undefined) return `${parse} ${exact}`;
  const noiseOnly = rounding ? '' : String.raw`if (!/^(?:0{10,}|9{10,})\d{0,3}$/.test(r)) return x; `;
  return (
    `${parse} if (f.length <= ${scale}) { ${exact} } const r = f.slice(${scale}); ${noiseOnly}const k = w + f.slice(0, ${scale}); const up = ${ROUNDS_UP[rounding ?? 'noise-only']}; ` +
    String.raw`const d = up ? ("0" + k).replace(/(\d)(9*)$/, (a, b, n) => String(Number(b) + 1) + "0".repeat(n.length)) : k; ` +
    String.raw`const dw = d.slice(0, d.length - ${scale}).replace(/^0+(?=\d)/, ""); const df = d.slice(d.length - ${scale}).replace(/0+$/, ""); ` +
    'return (m[1] === "-" && /[1-9]/.test(d) ? "-" : "") + dw + (df === "" ? "" : "." + df);'
  );
}

/** A candidate that finds the one number in a value (`match` yields the matches) and writes it per numberBody. */
function oneNumber(name: string, match: string, decimalComma: boolean, column: Column): Candidate {
  const rounding = column.type === 'decimal' ? column.rounding : undefined;
  const text = decimalComma ? 'all[0].replace(",", ".")' : 'all[0]';
  return {
    name,
    source: `x => { const all = x${match}; if (all === null || all.length !== 1) return x; const t = ${text}; ${numberBody(declaredScale(column), rounding)} }`,
  };
}

function numberCandidates(column: Column): Candidate[] {
  // Units, currency, percent signs and spaces around one number go; its digits stay.
  const plain = `${UNGROUP}.match(/-?\\d+(?:\\.\\d+)?/g)`;
  if (column.type === 'integer') return [oneNumber('extract-integer', plain, false, column)];
  return [
    oneNumber('extract-number', plain, false, column),
    oneNumber('decimal-comma', String.raw`.match(/-?\d+(?:,\d+)?/g)`, true, column),
  ];
}

function booleanCandidates(): Candidate[] {
  return [
    {
      name: 'boolean-words',
      source:
        'x => { const k = x.trim().toLowerCase(); return ["true", "t", "yes", "y", "1", "on"].includes(k) ? "true" : ["false", "f", "no", "n", "0", "off"].includes(k) ? "false" : x; }',
    },
  ];
}

function allowedCandidates(allowed: string[]): Candidate[] {
  const keys = allowed.map((a) => a.trim().replace(/\s+/g, ' ').toLowerCase());
  return [
    {
      name: 'allowed-value-ignoring-case',
      source: String.raw`x => { const i = ${js(keys)}.indexOf(x.trim().replace(/\s+/g, " ").toLowerCase()); return i < 0 ? x : ${js(allowed)}.at(i); }`,
    },
    {
      // One letter replaced: the one allowed value of the same length that differs in exactly one place (never in a digit).
      name: 'allowed-value-one-substitution',
      source: String.raw`x => { const k = x.trim().replace(/\s+/g, " ").toLowerCase(); const hits = ${js(allowed)}.filter(a => a.length === k.length && a.replace(/[^0-9]/g, "") === k.replace(/[^0-9]/g, "") && a.toLowerCase().split("").filter((c, i) => c !== k.charAt(i)).length === 1); return hits.length === 1 ? hits[0] : x; }`,
    },
    {
      // One character replaced by the same wrong one wherever it occurs (a stuck key, a bad code page).
      name: 'allowed-value-one-character-replaced',
      source: String.raw`x => { const k = x.trim().toLowerCase(); const hits = ${js(allowed)}.filter(a => { if (a.length !== k.length || a.replace(/[^0-9]/g, "") !== k.replace(/[^0-9]/g, "")) return false; const d = a.toLowerCase().split("").map((c, i) => (c === k.charAt(i) ? "" : c + k.charAt(i))).filter(p => p !== ""); return d.length > 0 && d.every(p => p === d[0]); }); return hits.length === 1 ? hits[0] : x; }`,
    },
  ];
}

function emailCandidates(): Candidate[] {
  return [
    { name: 'email-unwrap', source: String.raw`x => x.trim().replace(/^mailto:/i, "").replace(/^<(.*)>$/, "$1").replace(/\s+/g, "")` },
    {
      name: 'email-spelled-at',
      source: String.raw`x => x.trim().replace(/\s*(?:\(at\)|\[at\]|\s+at\s+)\s*/i, "@").replace(/\s*(?:\(dot\)|\[dot\])\s*/gi, ".").replace(/\s+/g, "")`,
    },
  ];
}

function phoneCandidates(): Candidate[] {
  // Only numbers that carry their country code: adding one would invent digits.
  return [
    {
      name: 'phone-e164',
      source: String.raw`x => { const d = x.trim().replace(/[\s().\-\/]/g, ""); return /^(\+|00)[1-9]\d{6,14}$/.test(d) ? "+" + d.replace(/^(\+|00)/, "") : x; }`,
    },
  ];
}

/**
 * The JS test (over the token `t`) a receiving column's contract gives a split: its pattern,
 * its allowed values, or the shape of its type (e-mail, phone). Undefined where the contract
 * describes no token (a free text column), where the test cannot be written here, and for
 * numbers and dates: a trailing number or date is as likely part of the text (a model, a year)
 * as a value that belongs elsewhere. Primary keys never receive anything.
 */
function tokenTest(column: Column): string | undefined {
  if (column.primary_key || !['string', 'enum', 'email', 'phone'].includes(column.type)) return undefined;
  const shape = tokenShape(column);
  if (!shape || (column.pattern !== undefined && !patternFindsText(column.pattern))) return undefined;
  // The gate refuses regular-expression literals longer than 200 characters.
  if (shape.patterns.some(([source]) => source.length > 200)) return undefined;
  const tests = shape.patterns.map(([source, flags]) => `/${source.replace(/(^|[^\\])\//g, '$1\\/')}/${flags}.test(t)`);
  if (shape.allowed) tests.push(`${js(shape.allowed)}.includes(t)`);
  return tests.join(' && ');
}

/** Columns whose text may hold a combined value to split: free or listed text, never a key. */
const isDonor = (column: Column) => (column.type === 'string' || column.type === 'enum') && !column.primary_key;

/** `donor`'s last word moves into the empty `receiver` when it passes `test`; both are written, the cluster's column first. */
function splitSource(first: Column, second: Column, donorIsFirst: boolean, test: string): string {
  const c = js(first.name);
  const o = js(second.name);
  const unchanged = `{ ${c}: v, ${o}: row[${o}] }`;
  const [donor, receiver] = donorIsFirst ? ['(v ?? "")', `(row[${o}] ?? "")`] : [`(row[${o}] ?? "")`, '(v ?? "")'];
  const moved = donorIsFirst ? `{ ${c}: s.slice(0, i).trim(), ${o}: t }` : `{ ${c}: t, ${o}: s.slice(0, i).trim() }`;
  return `(v, row) => { const s = ${donor}.trim(); if (${receiver}.trim() !== "") return ${unchanged}; const i = s.lastIndexOf(" "); if (i < 1) return ${unchanged}; const t = s.slice(i + 1); return ${test} ? ${moved} : ${unchanged}; }`;
}

/**
 * Row level: a combined field split in two ("San Francisco CA" -> "San Francisco" + "CA"). Either
 * this column holds the combined value and the other one is empty (`into`), or this column is
 * empty and the other one holds it (`from`). The last word moves only into a column whose
 * contract describes it (tokenTest) and only when it has that shape; measure() then asks the
 * cluster's donor values to show it as a consistent pattern. A free text column never receives.
 */
function splitCandidates(column: Column, contract: Contract): Candidate[] {
  if (column.primary_key) return [];
  const ownTest = tokenTest(column);
  return contract.columns
    .filter((other) => other.name !== column.name && !other.primary_key)
    .flatMap((other) => {
      const candidates: Candidate[] = [];
      const write = { reads: [other.name], writes: [column.name, other.name] };
      const otherTest = tokenTest(other);
      if (isDonor(column) && otherTest)
        candidates.push({ name: `split-last-word-into:${other.name}`, ...write, source: splitSource(column, other, true, otherTest) });
      if (isDonor(other) && ownTest)
        candidates.push({ name: `split-last-word-from:${other.name}`, ...write, source: splitSource(column, other, false, ownTest) });
      return candidates;
    });
}

/** Every candidate for a failing cell of `column`, simplest first. */
export function synthesizerCandidates(column: Column, contract: Contract): Candidate[] {
  const candidates: Candidate[] = [...nullTokenCandidate(column, contract)];
  switch (column.type) {
    case 'integer':
    case 'decimal':
      candidates.push(...numberCandidates(column));
      break;
    case 'boolean':
      candidates.push(...booleanCandidates());
      break;
    case 'date':
    case 'timestamp':
      candidates.push(...dateCandidates(column));
      break;
    case 'email':
      candidates.push(...emailCandidates());
      break;
    case 'phone':
      candidates.push(...phoneCandidates());
      break;
    default:
      candidates.push(...textCandidates(column), ...clockTimeCandidates(column));
  }
  if (column.allowed) candidates.push(...allowedCandidates(column.allowed));
  candidates.push(...splitCandidates(column, contract));
  return candidates;
}
