import type { Column, Contract } from '../contract/contract.ts';
import type { Candidate } from './candidate.ts';
import { clockTimeCandidates, dateCandidates } from './date-time-candidates.ts';
import { COMMON_NULL_TOKENS } from './guards.ts';

/**
 * The synthesizer's library of typed transformations, as candidate functions for one column.
 * Nothing here knows any data set: each candidate follows from the column's contract (type,
 * pattern, allowed values, format, scale, nullability). Simplest first: on equal pass rates
 * the earlier candidate wins.
 */
const js = (value: unknown) => JSON.stringify(value);
/** Thousands separators: a comma followed by exactly three digits. */
const UNGROUP = String.raw`.replace(/(\d),(?=\d{3}(?:\D|$))/g, "$1")`;

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
    { name: 'drop-control-characters', source: String.raw`x => x.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/g, "")` },
  ];
  if (column.pattern && patternFindsText(column.pattern)) {
    candidates.push({
      name: 'extract-pattern',
      source: `x => { const all = x.match(/${jsRegexBody(column.pattern)}/g); return all !== null && all.length === 1 ? all[0] : x; }`,
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

function numberCandidates(column: Column): Candidate[] {
  if (column.type === 'integer') {
    return [
      {
        name: 'extract-integer',
        source: String.raw`x => { const all = x${UNGROUP}.match(/-?\d+(?:\.\d+)?/g); if (all === null || all.length !== 1) return x; const n = Number(all[0]); return Number.isSafeInteger(n) ? String(n) : x; }`,
      },
    ];
  }
  const scale = column.scale ?? 6;
  return [
    {
      // Units, currency, percent signs and spaces around one number go; noise beyond the scale is rounded off.
      name: 'extract-number',
      source: String.raw`x => { const all = x${UNGROUP}.match(/-?\d+(?:\.\d+)?/g); if (all === null || all.length !== 1) return x; const n = Number(Number(all[0]).toFixed(${scale})); return Number.isFinite(n) ? String(n) : x; }`,
    },
    {
      name: 'decimal-comma',
      source: String.raw`x => { const all = x.match(/-?\d+(?:,\d+)?/g); if (all === null || all.length !== 1) return x; const n = Number(Number(all[0].replace(",", ".")).toFixed(${scale})); return Number.isFinite(n) ? String(n) : x; }`,
    },
  ];
}

function booleanCandidates(): Candidate[] {
  return [
    {
      name: 'boolean-words',
      source: 'x => { const k = x.trim().toLowerCase(); return ["true", "t", "yes", "y", "1", "on"].includes(k) ? "true" : ["false", "f", "no", "n", "0", "off"].includes(k) ? "false" : x; }',
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
    { name: 'email-spelled-at', source: String.raw`x => x.trim().replace(/\s*(?:\(at\)|\[at\]|\s+at\s+)\s*/i, "@").replace(/\s*(?:\(dot\)|\[dot\])\s*/gi, ".").replace(/\s+/g, "")` },
  ];
}

function phoneCandidates(): Candidate[] {
  // Only numbers that carry their country code: adding one would invent digits.
  return [{ name: 'phone-e164', source: String.raw`x => { const d = x.trim().replace(/[\s().\-\/]/g, ""); return /^(\+|00)[1-9]\d{6,14}$/.test(d) ? "+" + d.replace(/^(\+|00)/, "") : x; }` }];
}

/**
 * Row level: a combined field split in two ("San Francisco CA" -> "San Francisco" + "CA").
 * Either this column holds the combined value and the other one is empty, or this column is
 * empty and the other one holds it; the last word goes to the column that takes it.
 */
function splitCandidates(column: Column, contract: Contract): Candidate[] {
  const c = js(column.name);
  return contract.columns
    .filter((other) => other.name !== column.name && (other.type === 'string' || other.type === 'enum') && !other.primary_key)
    .flatMap((other) => {
      const o = js(other.name);
      const unchanged = `{ ${c}: v, ${o}: row[${o}] }`;
      return [
        {
          name: `split-last-word-into:${other.name}`,
          reads: [other.name],
          writes: [column.name, other.name],
          source: `(v, row) => { if ((row[${o}] ?? "").trim() !== "" || v === null) return ${unchanged}; const s = v.trim(); const i = s.lastIndexOf(" "); return i < 1 ? ${unchanged} : { ${c}: s.slice(0, i).trim(), ${o}: s.slice(i + 1) }; }`,
        },
        {
          name: `split-last-word-from:${other.name}`,
          reads: [other.name],
          writes: [column.name, other.name],
          source: `(v, row) => { const s = (row[${o}] ?? "").trim(); if ((v ?? "").trim() !== "") return ${unchanged}; const i = s.lastIndexOf(" "); return i < 1 ? ${unchanged} : { ${c}: s.slice(i + 1), ${o}: s.slice(0, i).trim() }; }`,
        },
      ];
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
  if (column.type === 'string' || column.type === 'enum') candidates.push(...splitCandidates(column, contract));
  return candidates;
}
