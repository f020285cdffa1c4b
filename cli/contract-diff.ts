import { type CompatibilityVerdict, compatibility } from '../lib/contract/compatibility.ts';
import { type Column, type Contract, evolutionPolicy } from '../lib/contract/contract.ts';
import type { RegisteredContract } from '../lib/contract/registry.ts';
import { expectedSchema, schemaFingerprint } from '../lib/contract/schema-fingerprint.ts';
import { type Cell, table } from './output.ts';

/** One field that differs: where (`amount.type`, `format.null_tokens`, `max_failing_share`), the old and the new value. */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

/**
 * How a local contract differs from the registered one: columns added, removed and changed
 * (type, nullable, pii, primary_key and every value rule), tests added and removed, the format
 * and the contract's own fields, and the schema fingerprint before and after.
 */
export interface ContractDiff {
  stream: string;
  same: boolean;
  version: { old: number; new: number };
  fingerprint: { old: string; new: string; changed: boolean };
  columns: { added: Column[]; removed: Column[]; changed: FieldChange[] };
  tests: { added: unknown[]; removed: unknown[] };
  /** The format and the contract-wide settings (max_failing_share, description, version). */
  settings: FieldChange[];
  /** The column changes as the registered contract's evolution policy judges them (compatibility.ts); a file's own proposal may differ (its new columns are nullable text). */
  policy: CompatibilityVerdict;
}

const text = (value: unknown): string => (value === undefined ? 'none' : JSON.stringify(value));
const differs = (a: unknown, b: unknown): boolean => text(a) !== text(b);

/** Fields of two objects whose values differ, named `<prefix><field>`; `skip` names fields left out. */
function changedFields(old: object, next: object, prefix: string, skip: string[] = []): FieldChange[] {
  const a = old as Record<string, unknown>;
  const b = next as Record<string, unknown>;
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((n) => !skip.includes(n)).sort();
  return names.filter((n) => differs(a[n], b[n])).map((n) => ({ field: `${prefix}${n}`, old: a[n], new: b[n] }));
}

/** Items of `a` that `b` lacks, compared as JSON (a multiset difference). */
function missingFrom(a: unknown[], b: unknown[]): unknown[] {
  const left = b.map(text);
  return a.filter((item) => {
    const at = left.indexOf(text(item));
    if (at === -1) return true;
    left.splice(at, 1);
    return false;
  });
}

/** The difference between the registered contract and a local one (see ContractDiff). */
export function contractDiff(registered: RegisteredContract, next: Contract): ContractDiff {
  const old = registered.contract;
  const byName = new Map(old.columns.map((c) => [c.name, c]));
  const nextNames = new Set(next.columns.map((c) => c.name));
  const changed = next.columns.flatMap((c) => {
    const before = byName.get(c.name);
    return before ? changedFields(before, c, `${c.name}.`, ['name']) : [];
  });
  const columns = {
    added: next.columns.filter((c) => !byName.has(c.name)),
    removed: old.columns.filter((c) => !nextNames.has(c.name)),
    changed,
  };
  const tests = { added: missingFrom(next.tests, old.tests), removed: missingFrom(old.tests, next.tests) };
  const settings = [
    ...changedFields(old.format, next.format, 'format.'),
    ...changedFields(old, next, '', ['stream', 'format', 'columns', 'tests']),
  ];
  const fingerprint = schemaFingerprint(expectedSchema(next));
  const count =
    columns.added.length + columns.removed.length + changed.length + tests.added.length + tests.removed.length + settings.length;
  return {
    stream: old.stream,
    same: count === 0,
    version: { old: old.version, new: next.version },
    fingerprint: { old: registered.fingerprint, new: fingerprint, changed: fingerprint !== registered.fingerprint },
    columns,
    tests,
    settings,
    policy: compatibility(old, next, evolutionPolicy(old)),
  };
}

/** A column in one line: `amount decimal, nullable, pii, primary key`. */
export function columnSummary(c: Column): string {
  const flags = [c.nullable ? 'nullable' : 'not null', c.primary_key ? 'primary key' : '', c.pii ? 'pii' : ''].filter(Boolean);
  return `${c.name} (${c.type}, ${flags.join(', ')})`;
}

/** The difference as diff(1)-like lines: `+` added, `-` removed, `~` changed, then the fingerprints. */
export function diffText(diff: ContractDiff, file: string): string {
  const head = `--- registered ${diff.stream} v${diff.version.old}\n+++ ${file} v${diff.version.new}\n`;
  if (diff.same) return `${head}no difference\nfingerprint ${diff.fingerprint.old}\n`;
  const rows: Cell[][] = [
    ...diff.columns.added.map((c) => ['+', 'column', columnSummary(c)]),
    ...diff.columns.removed.map((c) => ['-', 'column', columnSummary(c)]),
    ...diff.columns.changed.map((c) => ['~', 'column', `${c.field}: ${text(c.old)} -> ${text(c.new)}`]),
    ...diff.tests.added.map((t) => ['+', 'test', text(t)]),
    ...diff.tests.removed.map((t) => ['-', 'test', text(t)]),
    ...diff.settings.map((c) => ['~', 'setting', `${c.field}: ${text(c.old)} -> ${text(c.new)}`]),
  ];
  const fp = diff.fingerprint;
  const tail = fp.changed
    ? `fingerprint ${fp.old} -> ${fp.new} (the schema a conforming file carries changes)\n`
    : `fingerprint ${fp.old} (unchanged)\n`;
  const { policy } = diff;
  const verdict = policy.changes.length
    ? `policy ${policy.policy} on this change of columns: ${policy.accepted ? 'compatible' : 'not compatible'} (${policy.rule})${policy.renamed ? `; ${policy.renamed.from} -> ${policy.renamed.to} may be a rename` : ''}; registering it by hand is always allowed\n`
    : '';
  return head + table(rows) + tail + verdict;
}
