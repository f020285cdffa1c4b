import type { Column, ColumnType, Contract } from './contract.ts';

/**
 * Schema evolution by policy: how a stream's next contract (or the schema a new file carries)
 * differs from the registered one, column by column, and whether the stream's policy lets it in.
 *
 * - `strict`: any column change halts.
 * - `additive`: a new nullable column (anywhere: columns match by name) and the widenings
 *   integer -> decimal, a larger scale or none, a longer `max_length` or none, more allowed
 *   values are accepted; anything else halts.
 * - `none`: added columns and widenings are not checked (a dropped `pattern`, `min`, `max` or
 *   allowed list, a column that may now be null: accepted too).
 *
 * Under every policy, `none` included, these halt: a removed column; a renamed one (it reads as
 * a removal and an addition, reported as a `renamed` hint); a narrowed one (decimal -> integer, a
 * smaller scale or a new one, a shorter `max_length` or a new one, lost allowed values, nullable
 * -> not null, a new or tighter `pattern`, `min` or `max`); any other change of type; a new NOT
 * NULL column (files written before it lack it); and a change of `primary_key`, `pii` or date
 * `format` on an existing column.
 *
 * Names compare case-insensitively; column order, descriptions, `rounding` (a repair setting) and
 * everything outside the columns (format, tests, breaker) are not schema here.
 *
 * @example
 * compatibility(registered, proposed, 'additive');
 * // { policy: 'additive', accepted: true, rule: 'additive: nullable column added', changes: [{ kind: 'added', column: 'note', ... }] }
 */

/** The policies a stream may evolve its schema by; see the module's first comment. */
export const EVOLUTION_POLICIES = ['additive', 'strict', 'none'] as const;
/** One of EVOLUTION_POLICIES. */
export type EvolutionPolicy = (typeof EVOLUTION_POLICIES)[number];

/** What can happen to a column: `rule-changed` is a change of `primary_key`, `pii` or `format`. */
export const CHANGE_KINDS = ['added', 'removed', 'widened', 'narrowed', 'retyped', 'rule-changed'] as const;
/** One of CHANGE_KINDS. */
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One difference between two contracts' columns. */
export interface SchemaChange {
  kind: ChangeKind;
  /** The column's name (as the registered contract spells it, or the next one for an added column). */
  column: string;
  /** What changed, for a person: `scale 2 -> 4`, `allowed values lost: silver`. */
  detail: string;
}

/** Whether the policy accepts the next contract, every change found, and the rule that decided. */
export interface CompatibilityVerdict {
  policy: EvolutionPolicy;
  accepted: boolean;
  /** Registered columns first (in their order), then added ones (in the next contract's order). */
  changes: SchemaChange[];
  /** The rule that decided, e.g. 'additive: nullable column added', 'every policy: column removed'. */
  rule: string;
  /** Exactly one column removed and one of the same type added: perhaps a rename (it still halts as a removal). */
  renamed?: { from: string; to: string };
}

/**
 * Which policies accept a change: `additive` (additive and none), `none` (none only) or `never`
 * (it halts under every policy). `strict` accepts no change at all.
 */
type Reach = 'additive' | 'none' | 'never';

/** A change with how far it reaches and the short label a verdict's rule names it by. */
interface Finding extends SchemaChange {
  reach: Reach;
  label: string;
}

/** An additive widening: accepted by `additive` and `none`. */
const widened = (column: string, detail: string): Finding => ({
  kind: 'widened',
  column,
  detail,
  reach: 'additive',
  label: 'column widened',
});
/** A loosened rule that is not an additive widening: accepted by `none` only. */
const loosened = (column: string, detail: string): Finding => ({ kind: 'widened', column, detail, reach: 'none', label: 'rule loosened' });
/** A narrowing: halts under every policy. */
const narrowed = (column: string, detail: string): Finding => ({
  kind: 'narrowed',
  column,
  detail,
  reach: 'never',
  label: 'column narrowed',
});

const show = (value: unknown): string => JSON.stringify(value);
const isNumeric = (type: ColumnType): boolean => type === 'integer' || type === 'decimal';

/** A change of type: integer -> decimal widens, decimal -> integer narrows, any other change halts. */
function typeChange(name: string, from: Column, to: Column): Finding[] {
  if (from.type === to.type) return [];
  if (from.type === 'integer' && to.type === 'decimal') return [widened(name, 'integer -> decimal')];
  if (from.type === 'decimal' && to.type === 'integer') return [narrowed(name, 'decimal -> integer')];
  return [{ kind: 'retyped', column: name, detail: `${from.type} -> ${to.type}`, reach: 'never', label: 'column retyped' }];
}

/**
 * A change of an upper limit where absent means no limit (`scale`, `max_length`): larger or
 * dropped widens, smaller or new narrows.
 */
function limitChange(name: string, limit: 'scale' | 'max_length', was: number | undefined, is: number | undefined): Finding[] {
  if (was === is) return [];
  if (is === undefined) return [widened(name, `${limit} ${was} dropped`)];
  if (was === undefined) return [narrowed(name, `${limit} ${is} where there was none`)];
  return [is > was ? widened(name, `${limit} ${was} -> ${is}`) : narrowed(name, `${limit} ${was} -> ${is}`)];
}

/** A change of allowed values: gaining some widens, losing any (or a new list) narrows, dropping the list loosens. */
function allowedChange(name: string, from: Column, to: Column): Finding[] {
  const [was, is] = [from.allowed, to.allowed];
  if (!was && !is) return [];
  if (!is) return [loosened(name, 'allowed values dropped')];
  if (!was) return [narrowed(name, `allowed values where there were none: ${is.join(', ')}`)];
  const lost = was.filter((v) => !is.includes(v));
  const gained = is.filter((v) => !was.includes(v));
  if (lost.length) {
    return [narrowed(name, `allowed values lost: ${lost.join(', ')}${gained.length ? `; gained: ${gained.join(', ')}` : ''}`)];
  }
  return gained.length ? [widened(name, `allowed values gained: ${gained.join(', ')}`)] : [];
}

/** nullable -> not null narrows; not null -> nullable loosens (a consumer may rely on the value). */
function nullableChange(name: string, from: Column, to: Column): Finding[] {
  if (from.nullable === to.nullable) return [];
  return [from.nullable ? narrowed(name, 'nullable -> not null') : loosened(name, 'not null -> nullable')];
}

/** A changed `pattern`: dropped loosens, new or different narrows (one pattern cannot be told wider than another). */
function patternChange(name: string, from: Column, to: Column): Finding[] {
  const [was, is] = [from.pattern, to.pattern];
  if (was === is) return [];
  if (is === undefined) return [loosened(name, `pattern ${show(was)} dropped`)];
  return [narrowed(name, was === undefined ? `pattern ${show(is)} where there was none` : `pattern ${show(was)} -> ${show(is)}`)];
}

/**
 * A bound in an order this module can tell: numbers for numeric columns, the ISO text of a date
 * (it sorts as the dates do), the text of a text column; undefined for a timestamp (zones and
 * forms differ) or a boolean.
 */
function ordered(type: ColumnType, bound: number | string): number | string | undefined {
  if (isNumeric(type)) {
    const n = Number(bound);
    return Number.isFinite(n) ? n : undefined;
  }
  if (type === 'timestamp' || type === 'boolean') return undefined;
  return String(bound);
}

/** A changed `min` or `max`: dropped or looser loosens; new, tighter or not comparable narrows. */
function boundChange(name: string, which: 'min' | 'max', from: Column, to: Column): Finding[] {
  const [was, is] = [from[which], to[which]];
  if (was === is) return [];
  if (is === undefined) return [loosened(name, `${which} ${show(was)} dropped`)];
  if (was === undefined) return [narrowed(name, `${which} ${show(is)} where there was none`)];
  const sameDomain = from.type === to.type || (isNumeric(from.type) && isNumeric(to.type));
  const [a, b] = [ordered(from.type, was), ordered(to.type, is)];
  const detail = `${which} ${show(was)} -> ${show(is)}`;
  if (!sameDomain || a === undefined || b === undefined || typeof a !== typeof b) return [narrowed(name, detail)];
  if (a === b) return [];
  const looser = which === 'min' ? b < a : b > a;
  return [looser ? loosened(name, detail) : narrowed(name, detail)];
}

/** A change of `primary_key`, `pii` or `format`: identity, privacy and parsing; each halts under every policy. */
function flagChanges(name: string, from: Column, to: Column): Finding[] {
  const findings: Finding[] = [];
  const changed = (label: string, detail: string): void => {
    findings.push({ kind: 'rule-changed', column: name, detail, reach: 'never', label });
  };
  if (from.primary_key !== to.primary_key) {
    changed('primary key changed', to.primary_key ? 'now part of the primary key' : 'no longer part of the primary key');
  }
  if (from.pii !== to.pii) changed('pii changed', to.pii ? 'now marked pii' : 'no longer marked pii');
  if (from.format !== to.format) changed('format changed', `format ${show(from.format ?? 'ISO 8601')} -> ${show(to.format ?? 'ISO 8601')}`);
  return findings;
}

/** Every change between two versions of one column (matched by name). */
function columnChanges(from: Column, to: Column): Finding[] {
  const name = from.name;
  return [
    ...flagChanges(name, from, to),
    ...typeChange(name, from, to),
    ...(from.type === 'decimal' && to.type === 'decimal' ? limitChange(name, 'scale', from.scale, to.scale) : []),
    ...limitChange(name, 'max_length', from.max_length, to.max_length),
    ...allowedChange(name, from, to),
    ...nullableChange(name, from, to),
    ...patternChange(name, from, to),
    ...boundChange(name, 'min', from, to),
    ...boundChange(name, 'max', from, to),
  ];
}

/** A column the next contract adds: nullable is additive; NOT NULL halts (files written before it lack it). */
function addedColumn(column: Column): Finding {
  return column.nullable
    ? { kind: 'added', column: column.name, detail: `nullable ${column.type}`, reach: 'additive', label: 'nullable column added' }
    : {
        kind: 'added',
        column: column.name,
        detail: `not null ${column.type}: files written before it lack it`,
        reach: 'never',
        label: 'not-null column added',
      };
}

/** The rename a single removal and a single addition of the same type may be, or undefined. */
function renameHint(removed: Column[], added: Column[]): { from: string; to: string } | undefined {
  const [from, to] = [removed[0], added[0]];
  if (removed.length !== 1 || added.length !== 1 || !from || !to || from.type !== to.type) return undefined;
  return { from: from.name, to: to.name };
}

/** Whether the policy accepts the findings, and the rule that decided (the first change that halts, if any). */
function decide(policy: EvolutionPolicy, findings: Finding[]): { accepted: boolean; rule: string } {
  const first = findings[0];
  if (!first) return { accepted: true, rule: 'no change' };
  const breaking = findings.find((f) => f.reach === 'never');
  if (breaking) return { accepted: false, rule: `every policy: ${breaking.label}` };
  if (policy === 'strict') return { accepted: false, rule: `strict: ${first.label}` };
  const loose = findings.find((f) => f.reach === 'none');
  if (policy === 'additive' && loose) return { accepted: false, rule: `additive: ${loose.label}` };
  return { accepted: true, rule: `${policy}: ${[...new Set(findings.map((f) => f.label))].join(', ')}` };
}

/**
 * Compares the registered contract's columns with the next contract's and decides by `policy`;
 * see the module's first comment for what each policy accepts.
 */
export function compatibility(current: Contract, next: Contract, policy: EvolutionPolicy): CompatibilityVerdict {
  const key = (column: Column): string => column.name.toLowerCase();
  const nextByName = new Map(next.columns.map((c) => [key(c), c]));
  const currentNames = new Set(current.columns.map(key));
  const removed = current.columns.filter((c) => !nextByName.has(key(c)));
  const added = next.columns.filter((c) => !currentNames.has(key(c)));
  const renamed = renameHint(removed, added);
  const findings = current.columns.flatMap((from): Finding[] => {
    const to = nextByName.get(key(from));
    if (to) return columnChanges(from, to);
    const detail = `absent from the next contract${renamed ? ` (renamed to ${renamed.to}?)` : ''}`;
    return [{ kind: 'removed', column: from.name, detail, reach: 'never', label: 'column removed' }];
  });
  findings.push(...added.map(addedColumn));
  const changes = findings.map(({ kind, column, detail }) => ({ kind, column, detail }));
  return { policy, ...decide(policy, findings), changes, ...(renamed ? { renamed } : {}) };
}
