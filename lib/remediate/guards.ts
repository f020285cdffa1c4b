import type { Column, Contract } from '../contract/contract.ts';
import { EMAIL, PHONE } from '../contract/rules-sql.ts';

/**
 * Why a pass rate alone is not trusted: a function can make values pass by inventing them
 * (`x => null` passes a nullable column, `x => '12'` a numeric one). Each guard looks at one
 * input and what the function made of it; a value a guard flags counts as failed.
 */
export type GuardName = 'invented-null' | 'new-characters' | 'new-number' | 'moved-into-undescribed' | 'split-not-a-pattern';

/** Text that means "no value" in most sources, besides the contract's own null tokens. */
export const COMMON_NULL_TOKENS = [
  '',
  'n/a',
  'na',
  'null',
  'none',
  'nil',
  '-',
  '--',
  '?',
  'unknown',
  'not available',
  '#n/a',
  'nan',
  'missing',
];

function isNullToken(value: string, contract: Contract): boolean {
  const k = value.trim().toLowerCase();
  return COMMON_NULL_TOKENS.includes(k) || contract.format.null_tokens.some((t) => t.toLowerCase() === k);
}

/** Columns whose contract documents a re-format (a date format, a list of values, a pattern): letters may change. */
function documentsFormat(column: Column): boolean {
  return (
    column.type === 'date' ||
    column.type === 'timestamp' ||
    column.type === 'boolean' ||
    column.allowed !== undefined ||
    column.pattern !== undefined
  );
}

const asciiAlnum = (text: string) => new Set(text.toLowerCase().replace(/[^a-z0-9]/g, ''));

/** The guard a (input, output) pair trips in `column`, if any. Inputs that were null are left to the rules. */
export function guardFor(column: Column, contract: Contract, input: string | null, output: string | null): GuardName | undefined {
  if (input === null) return undefined;
  // The rules read an empty text or a null token as null too: turning a value into one is inventing a null.
  if (output === null || (isNullToken(output, contract) && output.trim().toLowerCase() !== input.trim().toLowerCase())) {
    return isNullToken(input, contract) ? undefined : 'invented-null';
  }
  if (column.type === 'integer' || column.type === 'decimal') return numberGuard(column, input, output);
  if (column.type === 'date' || column.type === 'timestamp' || column.type === 'enum' || column.allowed) return undefined;
  const have = asciiAlnum(input);
  for (const c of asciiAlnum(output)) {
    // Digits are data everywhere; letters may change only where the contract documents the form.
    if (!have.has(c) && (/[0-9]/.test(c) || !documentsFormat(column))) return 'new-characters';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Numbers keep every digit (DESIGN.md): exact decimal text, never a double.

/** A number exactly as written: sign, integer digits without leading zeros, fraction digits without trailing zeros. */
export interface ExactNumber {
  negative: boolean;
  whole: string;
  fraction: string;
}

/** How a contract may ask a value with too many fraction digits to be rounded (`column.rounding`). */
export type Rounding = 'half-even' | 'half-up';

/** Reads a plain decimal text (`-12.50`, `007`) exactly; undefined for anything else (exponents, units, spaces inside). */
export function parseExactNumber(text: string): ExactNumber | undefined {
  const m = /^\s*([+-]?)(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  return normalised(m[1] === '-', m[2]!, m[3] ?? '');
}

function normalised(negative: boolean, whole: string, fraction: string): ExactNumber {
  const w = whole.replace(/^0+(?=\d)/, '') || '0';
  const f = fraction.replace(/0+$/, '');
  return { negative: negative && !(w === '0' && f === ''), whole: w, fraction: f };
}

/** Whether two exact numbers are the same value. */
export function sameNumber(a: ExactNumber, b: ExactNumber): boolean {
  return a.negative === b.negative && a.whole === b.whole && a.fraction === b.fraction;
}

/**
 * `n` rounded to `scale` fraction digits, exactly. `half-up` rounds a tie away from zero (as
 * DuckDB's ROUND and Java's HALF_UP do); `half-even` rounds a tie to the even last digit.
 */
export function roundExact(n: ExactNumber, scale: number, mode: Rounding): ExactNumber {
  if (n.fraction.length <= scale) return n;
  const kept = n.whole + n.fraction.slice(0, scale);
  const up = roundsUp(kept, n.fraction.slice(scale), mode);
  const digits = up ? (BigInt(kept) + 1n).toString().padStart(scale + 1, '0') : kept;
  return normalised(n.negative, digits.slice(0, digits.length - scale), digits.slice(digits.length - scale));
}

/** Whether dropping `rest` (non-empty, no trailing zeros) rounds `kept` up. */
function roundsUp(kept: string, rest: string, mode: Rounding): boolean {
  if (rest[0] !== '5') return rest[0]! > '5';
  if (rest.length > 1 || mode === 'half-up') return true;
  return Number(kept.at(-1)) % 2 === 1;
}

/**
 * Float noise beyond the scale: at least 10 zeros or 10 nines right after the scale, then at most
 * 3 more digits (a double's last place), e.g. `0.052000000000000005` or `0.59999999999999998`.
 * Cutting it is a documented repair; any other extra digit is data, not noise.
 */
const NOISE = /^(?:0{10,}|9{10,})\d{0,3}$/;

/** Whether the digits of `n` beyond `scale` are float noise (see NOISE). */
export function isRoundingNoise(n: ExactNumber, scale: number): boolean {
  return n.fraction.length > scale && NOISE.test(n.fraction.slice(scale));
}

/**
 * The scale a column's contract declares: 0 for integers, the declared `scale` of a decimal,
 * undefined for a decimal without one (which keeps every digit: no rounding at all).
 */
export function declaredScale(column: Column): number | undefined {
  return column.type === 'integer' ? 0 : column.scale;
}

const NUMBER = /-?\d+(?:\.\d+)?/g;
const DECIMAL_COMMA = /-?\d+(?:,\d+)?/g;

/** The numbers a text holds: with thousands separators removed and, where it has no point, also with a decimal comma. */
export function numbersIn(text: string): ExactNumber[] {
  const plain = text.replace(/(\d),(?=\d{3}(?:\D|$))/g, '$1').match(NUMBER) ?? [];
  const comma = text.includes('.') ? [] : (text.match(DECIMAL_COMMA) ?? []).map((n) => n.replace(',', '.'));
  return [...plain, ...comma].map((n) => parseExactNumber(n)!);
}

/**
 * The values a number of the input may become in `column`: itself, its float noise cut at the
 * declared scale, and its rounding to the declared scale where the contract names the rounding.
 */
export function acceptedNumbers(column: Column, n: ExactNumber): ExactNumber[] {
  const scale = declaredScale(column);
  if (scale === undefined || n.fraction.length <= scale) return [n];
  const accepted = [n];
  // Noise is never a tie, so either rounding cuts it the same way.
  if (isRoundingNoise(n, scale)) accepted.push(roundExact(n, scale, 'half-up'));
  if (column.type === 'decimal' && column.rounding) accepted.push(roundExact(n, scale, column.rounding));
  return accepted;
}

/** `new-number` unless the output is, exactly, a number of the input or one of its accepted roundings. */
function numberGuard(column: Column, input: string, output: string): GuardName | undefined {
  const out = parseExactNumber(output);
  const kept = out !== undefined && numbersIn(input).some((n) => acceptedNumbers(column, n).some((a) => sameNumber(a, out)));
  return kept ? undefined : 'new-number';
}

// ---------------------------------------------------------------------------------------------
// Row-level functions: a column receives another column's text only where its contract describes it.

/**
 * What a column's contract says a value of it looks like, as full-match JavaScript regular
 * expressions (source, flags) and allowed values, every one to hold; undefined for a free text
 * column (no pattern, no allowed values, type `string`). Dates and timestamps are described by
 * their type: the rules check the parse.
 */
export interface TokenShape {
  patterns: [source: string, flags: string][];
  allowed?: string[];
}

const TYPE_SHAPES: Partial<Record<Column['type'], [string, string]>> = {
  integer: ['^-?\\d+$', ''],
  decimal: ['^-?\\d+(?:\\.\\d+)?$', ''],
  boolean: ['^(?:true|false)$', 'i'],
  email: [`^(?:${EMAIL})$`, ''],
  phone: [`^(?:${PHONE})$`, ''],
};

/** The shape a column's contract describes (see TokenShape), or undefined when it describes none. */
export function tokenShape(column: Column): TokenShape | undefined {
  if (column.type === 'string' && column.pattern === undefined && column.allowed === undefined) return undefined;
  const patterns: [string, string][] = [];
  if (column.pattern !== undefined && compiles(`^(?:${column.pattern})$`)) patterns.push([`^(?:${column.pattern})$`, '']);
  const typed = TYPE_SHAPES[column.type];
  if (typed) patterns.push(typed);
  return { patterns, ...(column.allowed ? { allowed: column.allowed } : {}) };
}

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Each column's shape as compiled tests (null: it describes none), built once per column object. */
const compiledShapes = new WeakMap<Column, ((value: string) => boolean) | null>();

function shapeTest(column: Column): ((value: string) => boolean) | null {
  let test = compiledShapes.get(column);
  if (test === undefined) {
    const shape = tokenShape(column);
    const patterns = shape?.patterns.map(([source, flags]) => new RegExp(source, flags)) ?? [];
    const allowed = shape?.allowed ? new Set(shape.allowed) : undefined;
    test = shape ? (value) => patterns.every((p) => p.test(value)) && (allowed?.has(value) ?? true) : null;
    compiledShapes.set(column, test);
  }
  return test;
}

/** Whether the contract of `column` describes `value` (see TokenShape). */
export function describesValue(column: Column, value: string): boolean {
  return shapeTest(column)?.(value) ?? false;
}

/** Text compared for "whose is it": case, diacritics and runs of white space do not count. */
const comparable = (text: string | null) =>
  (text ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .replace(/\s+/g, ' ')
    .toLowerCase();

/** Whether `after` holds text that is not part of `before`: a token that came from another column. */
export function receivesForeignText(before: string | null, after: string | null): boolean {
  const a = comparable(after);
  return a !== '' && !comparable(before).includes(a);
}

/**
 * The guard a row-level function trips when it writes `after` into `column` (which held
 * `before`): text from another column may go only into a column whose contract describes it.
 */
export function movedTokenGuard(column: Column, before: string | null, after: string | null): GuardName | undefined {
  if (!receivesForeignText(before, after)) return undefined;
  return describesValue(column, after!.trim()) ? undefined : 'moved-into-undescribed';
}
