import { z } from 'zod';
import { checkExpression } from './expression.ts';
import { EVOLUTION_POLICIES, type EvolutionPolicy } from './compatibility.ts';

/**
 * A stream's schema contract: the only label the platform has. It says which columns a file
 * must have, what each value must look like, and which dbt-style tests a batch must pass.
 */

/** The types a column may have. */
export const COLUMN_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'timestamp', 'email', 'phone', 'enum'] as const;
/** One of COLUMN_TYPES. */
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** SQL words that, as column names, would let an expression test say something else than a predicate. */
const SQL_KEYWORDS = new Set([
  'select',
  'from',
  'where',
  'union',
  'join',
  'with',
  'as',
  'on',
  'using',
  'group',
  'order',
  'having',
  'limit',
  'offset',
  'insert',
  'update',
  'delete',
  'copy',
  'attach',
  'detach',
  'install',
  'load',
  'pragma',
  'create',
  'drop',
  'alter',
  'table',
  'set',
  'call',
  'export',
  'import',
  'into',
  'values',
  'window',
  'qualify',
  'pivot',
  'unpivot',
  'describe',
  'summarize',
  'show',
  'exists',
  'lateral',
]);
const Name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_ ]{0,62}$/, 'column names: letters, digits, _ and space, at most 63')
  .refine((name) => !SQL_KEYWORDS.has(name.toLowerCase()), 'an SQL keyword cannot be a column name');
const Bound = z.union([z.number(), z.string().min(1)]);

/**
 * The value forms of the built-in types that have one (full-match regular expressions, the same
 * ones the bouncer compiles to SQL). A contract's own values (allowed values, bounds) are checked
 * against them when it registers, so a contract cannot ask for a value its own rules refuse.
 */
export const VALUE_FORMS = {
  email: '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}',
  /** E.164: the canonical phone form a contract's clean data carries. */
  phone: '\\+[1-9][0-9]{6,14}',
  timestamp: '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?',
} as const;

const fullMatch = (pattern: string, value: string): boolean => new RegExp(`^(?:${pattern})$`).test(value);
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** Milliseconds since the epoch of an ISO date (`YYYY-MM-DD`, a real calendar day), or undefined. */
function isoDate(text: string): number | undefined {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? t : undefined;
}

/** Milliseconds since the epoch of an ISO timestamp (a date alone is midnight; no zone is UTC), or undefined. */
function isoTimestamp(text: string): number | undefined {
  const day = isoDate(text);
  if (day !== undefined) return day;
  if (!fullMatch(VALUE_FORMS.timestamp, text) || isoDate(text.slice(0, 10)) === undefined) return undefined;
  const zone = /(Z|[+-][0-9]{2}(:?[0-9]{2})?)$/.exec(text.slice(16))?.[0];
  const local = zone ? text.slice(0, text.length - zone.length) : text;
  const offset = !zone || zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '') || '00'}`;
  const t = Date.parse(`${local.replace(' ', 'T')}${offset}`);
  return Number.isNaN(t) ? undefined : t;
}

interface ColumnRules {
  type: ColumnType;
  scale?: number | undefined;
  format?: string | undefined;
  pattern?: string | undefined;
  max_length?: number | undefined;
}

/**
 * Why `text` (a value as it arrives in a file) is not of the column's type, or undefined when it is.
 * A date or timestamp with its own `format` is not checked here (strptime is the engine's).
 */
function typeProblem(column: ColumnRules, text: string): string | undefined {
  switch (column.type) {
    case 'integer': {
      if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return 'is not an integer in canonical form';
      const n = BigInt(text);
      return n < BIGINT_MIN || n > BIGINT_MAX ? 'is outside the 64-bit integer range' : undefined;
    }
    case 'decimal': {
      if (!/^-?[0-9]+(\.[0-9]+)?$/.test(text)) return 'is not a decimal number';
      const fraction = text.split('.')[1]?.length ?? 0;
      return column.scale !== undefined && fraction > column.scale ? `has more than scale ${column.scale} fraction digits` : undefined;
    }
    case 'boolean':
      return ['true', 'false'].includes(text.toLowerCase()) ? undefined : 'is not true or false';
    case 'date':
      return column.format || isoDate(text) !== undefined ? undefined : 'is not an ISO date (YYYY-MM-DD)';
    case 'timestamp':
      return column.format || isoTimestamp(text) !== undefined ? undefined : 'is not an ISO 8601 timestamp';
    case 'email':
    case 'phone':
      return fullMatch(VALUE_FORMS[column.type], text)
        ? undefined
        : `is not ${column.type === 'email' ? 'an email address' : 'an E.164 phone number'}`;
    default:
      return undefined;
  }
}

/** Why `text` fails the column's own value rules (type, pattern, max_length), or undefined. */
function valueProblem(column: ColumnRules, text: string): string | undefined {
  const typed = typeProblem(column, text);
  if (typed) return typed;
  if (column.pattern) {
    try {
      if (!fullMatch(column.pattern, text)) return `does not match the column's pattern ${column.pattern}`;
    } catch {
      return undefined; // the pattern itself is reported
    }
  }
  if (column.max_length !== undefined && [...text].length > column.max_length) return `is longer than max_length ${column.max_length}`;
  return undefined;
}

type BoundValue = number | string;

/**
 * A bound as a comparable value in the column's domain (numbers for numbers, epoch ms for dates
 * and timestamps, the text for text), or a message saying why the bound does not fit the type.
 */
function boundValue(type: ColumnType, bound: BoundValue): { value: number | string } | { problem: string } {
  switch (type) {
    case 'integer':
    case 'decimal': {
      const n = typeof bound === 'number' ? bound : /^-?[0-9]+(\.[0-9]+)?$/.test(bound) ? Number(bound) : NaN;
      return Number.isFinite(n) ? { value: n } : { problem: `${JSON.stringify(bound)} is not a number` };
    }
    case 'date': {
      const t = typeof bound === 'string' ? isoDate(bound) : undefined;
      return t === undefined ? { problem: `${JSON.stringify(bound)} is not an ISO date (YYYY-MM-DD)` } : { value: t };
    }
    case 'timestamp': {
      const t = typeof bound === 'string' ? isoTimestamp(bound) : undefined;
      return t === undefined ? { problem: `${JSON.stringify(bound)} is not an ISO 8601 timestamp` } : { value: t };
    }
    case 'boolean':
      return { problem: 'a boolean column has no order' };
    default:
      return { value: String(bound) };
  }
}

/** Where the bounds of a column (or of a range test on it) contradict each other or its type. */
function boundIssues(
  type: ColumnType,
  min: BoundValue | undefined,
  max: BoundValue | undefined,
): Array<{ path: 'min' | 'max'; message: string }> {
  if (type === 'boolean' && (min !== undefined || max !== undefined)) {
    return [{ path: min !== undefined ? 'min' : 'max', message: 'a boolean column has no order: min and max do not apply' }];
  }
  const issues: Array<{ path: 'min' | 'max'; message: string }> = [];
  const lo = min === undefined ? undefined : boundValue(type, min);
  const hi = max === undefined ? undefined : boundValue(type, max);
  if (lo && 'problem' in lo) issues.push({ path: 'min', message: lo.problem });
  if (hi && 'problem' in hi) issues.push({ path: 'max', message: hi.problem });
  if (lo && hi && 'value' in lo && 'value' in hi && lo.value > hi.value) {
    issues.push({ path: 'min', message: `min ${JSON.stringify(min)} is above max ${JSON.stringify(max)}: no value can pass` });
  }
  return issues;
}

/** Whether a typed value lies outside [min, max] (both already known to fit the type). */
function outOfBounds(type: ColumnType, text: string, min: BoundValue | undefined, max: BoundValue | undefined): string | undefined {
  const value = boundValue(type, text);
  if (!('value' in value)) return undefined;
  const lo = min === undefined ? undefined : boundValue(type, min);
  const hi = max === undefined ? undefined : boundValue(type, max);
  if (lo && 'value' in lo && value.value < lo.value) return `is below min ${JSON.stringify(min)}`;
  if (hi && 'value' in hi && value.value > hi.value) return `is above max ${JSON.stringify(max)}`;
  return undefined;
}

/**
 * One column of a contract: its type and the rules a value must pass. Contradictory rules (a
 * nullable primary key, `min` above `max`, allowed values the column itself refuses, ...) are
 * refused with the field named, so a contract that registers can be satisfied.
 */
export const ColumnSchema = z
  .object({
    name: Name,
    type: z.enum(COLUMN_TYPES),
    /** Whether a value may be missing. Default: true, except for a primary-key column (a key is never null). */
    nullable: z.boolean().optional(),
    /** A regular expression the whole value must match (RE2 syntax, as DuckDB runs it). */
    pattern: z.string().min(1).optional(),
    /** Accepted values (required for `enum`). */
    allowed: z.array(z.string()).min(1).optional(),
    min: Bound.optional(),
    max: Bound.optional(),
    max_length: z.number().int().positive().optional(),
    /** Digits after the point a decimal may carry; absent: any fraction length up to 18 digits (and 20 integer digits), kept exactly as DECIMAL(38, 18). */
    scale: z.number().int().min(0).max(18).optional(),
    /**
     * How a value with more fraction digits than `scale` may be rounded as a repair; absent: such a
     * value goes to review, never rounded. Only for `decimal` columns that declare `scale`.
     * `half-up` rounds ties away from zero, `half-even` to the even digit.
     */
    rounding: z.enum(['half-even', 'half-up']).optional(),
    /** strptime format of dates and timestamps; ISO 8601 when absent. */
    format: z.string().min(2).optional(),
    primary_key: z.boolean().default(false),
    pii: z.boolean().default(false),
    description: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (c.type === 'enum' && !c.allowed) ctx.addIssue({ code: 'custom', path: ['allowed'], message: 'an enum needs allowed values' });
    if (c.primary_key && c.nullable === true)
      issue(['nullable'], 'a primary-key column cannot be nullable (a key is identity; leave nullable out or set it false)');
    if (c.scale !== undefined && c.type !== 'decimal') issue(['scale'], 'scale applies to decimal columns only');
    for (const problem of boundIssues(c.type, c.min, c.max)) issue([problem.path], problem.message);
    const seenAllowed = new Set<string>();
    for (const [i, value] of (c.allowed ?? []).entries()) {
      if (seenAllowed.has(value)) issue(['allowed', i], `allowed value ${JSON.stringify(value)} is listed twice`);
      seenAllowed.add(value);
      if (value === '') {
        issue(['allowed', i], 'an empty allowed value reads as no value: use nullable instead');
        continue;
      }
      const problem = valueProblem(c, value) ?? outOfBounds(c.type, value, c.min, c.max);
      if (problem) issue(['allowed', i], `allowed value ${JSON.stringify(value)} ${problem}: no row could carry it`);
    }
    if (c.format && c.type !== 'date' && c.type !== 'timestamp') {
      ctx.addIssue({ code: 'custom', path: ['format'], message: 'format applies to date and timestamp columns' });
    }
    if (c.rounding !== undefined) {
      if (c.type !== 'decimal') ctx.addIssue({ code: 'custom', path: ['rounding'], message: 'rounding applies to decimal columns only' });
      else if (c.scale === undefined) ctx.addIssue({ code: 'custom', path: ['rounding'], message: 'rounding needs a declared scale' });
    }
    if (c.pattern) {
      try {
        new RegExp(c.pattern);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'not a valid regular expression' });
      }
    }
  })
  .transform((c) => ({ ...c, nullable: c.nullable ?? !c.primary_key }));
/** A parsed column (defaults filled in: `nullable` is always set). */
export type Column = z.infer<typeof ColumnSchema>;

/** The dbt-style tests a batch must pass, over the contract's columns. */
export const ContractTestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('not_null'), column: Name }),
  z.object({ type: z.literal('unique'), columns: z.array(Name).min(1) }),
  z.object({ type: z.literal('accepted_values'), column: Name, values: z.array(z.string()).min(1) }),
  z.object({ type: z.literal('range'), column: Name, min: Bound.optional(), max: Bound.optional() }),
  /** A row-level SQL predicate over the contract's columns (checked against an allow-list). */
  z.object({ type: z.literal('expression'), name: z.string().regex(/^[a-z0-9_]{1,40}$/), expression: z.string().min(1).max(500) }),
  /**
   * A functional dependency the columns' meaning guarantees: rows that agree on `determinant`
   * agree on `dependent` (`zip -> city`). A row whose dependent value contradicts what its
   * group's evidence supports is suspect `<dependent>:dependency` (see lib/evidence). With
   * `source`, rows are reports of several sources, weighted by each source's measured agreement.
   */
  z.object({
    type: z.literal('dependency'),
    determinant: z.array(Name).min(1).max(4),
    dependent: Name,
    /** The column naming each row's source (several sources report the same entity). */
    source: Name.optional(),
    /** Rows that must carry the winning value before it counts as evidence (default 2). */
    min_support: z.number().int().min(2).optional(),
    /** Share of the group's (weighted) votes the winning value needs to be acted on (default 0.6). */
    min_share: z.number().gt(0.5).max(1).optional(),
  }),
]);
/** One parsed contract test. */
export type ContractTest = z.infer<typeof ContractTestSchema>;

/** The delimiters a CSV file without a declared one may use (see lib/ingest/csv-header.ts). */
export const CSV_DELIMITER_CANDIDATES = [',', ';', '\t', '|'] as const;
const LINE_END = ['\n', '\r'];

/**
 * How a stream's files are written. CSV fields are quoted with `quote`, which also escapes itself
 * inside a quoted field (RFC 4180: `""`), so the quote is the escape character as well.
 */
export const FormatSchema = z
  .object({
    type: z.enum(['csv', 'jsonl', 'parquet']).default('csv'),
    /** The CSV field delimiter; absent: the one of CSV_DELIMITER_CANDIDATES that splits the header most. */
    delimiter: z.string().length(1).optional(),
    /** The CSV quote character (also its escape: a quote inside a quoted field is doubled). */
    quote: z.string().length(1).default('"'),
    /** Values that mean "no value" besides the empty field. */
    null_tokens: z.array(z.string()).default([]),
  })
  .superRefine((f, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (f.delimiter !== undefined && f.type !== 'csv') issue(['delimiter'], `a delimiter applies to csv files only, not ${f.type}`);
    if (f.delimiter !== undefined && LINE_END.includes(f.delimiter)) issue(['delimiter'], 'a line end cannot be the delimiter');
    if (LINE_END.includes(f.quote)) issue(['quote'], 'a line end cannot be the quote character');
    if (f.type === 'csv' && f.delimiter !== undefined && f.quote === f.delimiter) {
      issue(
        ['quote'],
        `the quote character (which is also the escape) equals the delimiter ${JSON.stringify(f.delimiter)}: no field could be split`,
      );
    }
    if (f.type === 'csv' && f.delimiter === undefined && (CSV_DELIMITER_CANDIDATES as readonly string[]).includes(f.quote)) {
      issue(
        ['quote'],
        `the quote character ${JSON.stringify(f.quote)} is one of the delimiters a file may be split by when none is declared: declare format.delimiter`,
      );
    }
    const seen = new Set<string>();
    for (const [i, token] of f.null_tokens.entries()) {
      if (token === '') issue(['null_tokens', i], 'the empty field already means no value');
      else if (seen.has(token)) issue(['null_tokens', i], `null token ${JSON.stringify(token)} is listed twice`);
      seen.add(token);
    }
  })
  .default({ type: 'csv', quote: '"', null_tokens: [] });

/** Columns the pipeline adds to every output; a contract may not use these names. */
const RESERVED = new Set(['row_id', 'pk_hash', 'reasons', 'disposition', 'duplicate_of', 'key_verdict', 'first_row']);

/** A stream's whole contract: format, columns, tests and breaker; see the module's first comment. */
export const ContractSchema = z
  .object({
    stream: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    version: z.number().int().positive(),
    description: z.string().optional(),
    format: FormatSchema,
    columns: z.array(ColumnSchema).min(1),
    tests: z.array(ContractTestSchema).default([]),
    /**
     * The circuit breaker: when a larger share of a file's rows fails (suspect or quarantined),
     * the stream halts and the file waits for an operator. Absent: no limit.
     */
    max_failing_share: z.number().min(0).max(1).optional(),
    /**
     * Whether rules discovered from the batch and the stream's history may flag rows: approximate
     * dependencies and value domains are always reported, and act only where allowed here.
     */
    discover: z.object({ dependencies: z.boolean().default(false), domains: z.boolean().default(false) }).optional(),
    /**
     * How a file whose columns differ from the contract is met (see compatibility.ts): `strict`
     * (the default) halts the stream on any difference; `additive` lets in a new nullable column
     * and widenings, under a proposed next version the operator adopts or rejects; `none` also
     * lets in loosened rules. A removed, renamed or narrowed column halts under every policy.
     */
    evolution: z.enum(EVOLUTION_POLICIES).optional(),
  })
  .superRefine((contract, ctx) => {
    const names = contract.columns.map((c) => c.name);
    const seen = new Set<string>();
    for (const [i, name] of names.entries()) {
      if (RESERVED.has(name.toLowerCase()))
        ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `${name} is reserved for the pipeline's own columns` });
      if (seen.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `duplicate column ${name}` });
      seen.add(name.toLowerCase());
    }
    const nullTokens = new Set(contract.format.null_tokens);
    for (const [i, column] of contract.columns.entries()) {
      for (const [j, value] of (column.allowed ?? []).entries()) {
        if (nullTokens.has(value)) {
          ctx.addIssue({
            code: 'custom',
            path: ['columns', i, 'allowed', j],
            message: `allowed value ${JSON.stringify(value)} is also a null token of format.null_tokens, so it reads as no value`,
          });
        }
      }
    }
    const byName = new Map(contract.columns.map((c) => [c.name.toLowerCase(), c]));
    const expressionNames = new Set<string>();
    for (const [i, test] of contract.tests.entries()) {
      const used =
        test.type === 'unique'
          ? test.columns
          : test.type === 'expression'
            ? []
            : test.type === 'dependency'
              ? [...test.determinant, test.dependent, ...(test.source ? [test.source] : [])]
              : [test.column];
      for (const column of used) {
        if (!seen.has(column.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['tests', i], message: `unknown column ${column}` });
      }
      const issue = (path: (string | number)[], message: string): void =>
        ctx.addIssue({ code: 'custom', path: ['tests', i, ...path], message });
      if (test.type === 'unique') {
        const lower = test.columns.map((c) => c.toLowerCase());
        for (const [j, c] of lower.entries())
          if (lower.indexOf(c) !== j) issue(['columns', j], `column ${test.columns[j]} is listed twice`);
      }
      if (test.type === 'dependency') {
        const lower = test.determinant.map((c) => c.toLowerCase());
        for (const [j, c] of lower.entries())
          if (lower.indexOf(c) !== j) issue(['determinant', j], `column ${test.determinant[j]} is listed twice`);
        if (lower.includes(test.dependent.toLowerCase())) issue(['dependent'], 'a column cannot determine itself');
        if (byName.get(test.dependent.toLowerCase())?.primary_key)
          issue(['dependent'], `${test.dependent} is the primary key: identity, not data a dependency may repair`);
        const source = test.source?.toLowerCase();
        if (source && (lower.includes(source) || source === test.dependent.toLowerCase()))
          issue(['source'], 'the source column must be another column than the determinant and the dependent');
      }
      const column =
        test.type === 'expression' || test.type === 'unique' || test.type === 'dependency'
          ? undefined
          : byName.get(test.column.toLowerCase());
      if (test.type === 'range' && column) {
        if (test.min === undefined && test.max === undefined) issue([], 'a range test needs min or max');
        for (const problem of boundIssues(column.type, test.min, test.max)) issue([problem.path], `${column.name}: ${problem.message}`);
      }
      if (test.type === 'accepted_values' && column) {
        for (const [j, value] of test.values.entries()) {
          const problem =
            value === ''
              ? 'reads as no value'
              : (valueProblem(column, value) ??
                outOfBounds(column.type, value, column.min, column.max) ??
                (column.allowed && !column.allowed.includes(value) ? "is not among the column's allowed values" : undefined));
          if (problem) issue(['values', j], `${column.name}: accepted value ${JSON.stringify(value)} ${problem}: no row could carry it`);
        }
      }
      if (test.type === 'expression') {
        if (expressionNames.has(test.name))
          issue(
            ['name'],
            `a second expression test named ${test.name} (each needs its own name: its reason code is row:expression:<name>)`,
          );
        expressionNames.add(test.name);
        const problem = checkExpression(test.expression, names);
        if (problem) ctx.addIssue({ code: 'custom', path: ['tests', i, 'expression'], message: problem });
      }
    }
  });
/** A parsed contract (defaults filled in). */
export type Contract = z.infer<typeof ContractSchema>;

/** The contract's primary-key columns, in column order (empty when it has none). */
export function primaryKey(contract: Contract): Column[] {
  return contract.columns.filter((c) => c.primary_key);
}

/** The stream's schema evolution policy: the contract's `evolution`, `strict` when it names none. */
export function evolutionPolicy(contract: Pick<Contract, 'evolution'>): EvolutionPolicy {
  return contract.evolution ?? 'strict';
}
