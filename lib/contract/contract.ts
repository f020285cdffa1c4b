import { z } from 'zod';
import { checkExpression } from './expression.ts';

/**
 * A stream's schema contract: the only label the platform has. It says which columns a file
 * must have, what each value must look like, and which dbt-style tests a batch must pass.
 */
export const COLUMN_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'timestamp', 'email', 'phone', 'enum'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** SQL words that, as column names, would let an expression test say something else than a predicate. */
const SQL_KEYWORDS = new Set(['select', 'from', 'where', 'union', 'join', 'with', 'as', 'on', 'using', 'group', 'order', 'having', 'limit', 'offset',
  'insert', 'update', 'delete', 'copy', 'attach', 'detach', 'install', 'load', 'pragma', 'create', 'drop', 'alter', 'table', 'set', 'call',
  'export', 'import', 'into', 'values', 'window', 'qualify', 'pivot', 'unpivot', 'describe', 'summarize', 'show', 'exists', 'lateral']);
const Name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_ ]{0,62}$/, 'column names: letters, digits, _ and space, at most 63')
  .refine((name) => !SQL_KEYWORDS.has(name.toLowerCase()), 'an SQL keyword cannot be a column name');
const Bound = z.union([z.number(), z.string().min(1)]);

export const ColumnSchema = z
  .object({
    name: Name,
    type: z.enum(COLUMN_TYPES),
    nullable: z.boolean().default(true),
    /** A regular expression the whole value must match (RE2 syntax, as DuckDB runs it). */
    pattern: z.string().min(1).optional(),
    /** Accepted values (required for `enum`). */
    allowed: z.array(z.string()).min(1).optional(),
    min: Bound.optional(),
    max: Bound.optional(),
    max_length: z.number().int().positive().optional(),
    /** Digits after the point a decimal may carry (default 6): more is rounding noise, a suspect value. */
    scale: z.number().int().min(0).max(18).optional(),
    /** strptime format of dates and timestamps; ISO 8601 when absent. */
    format: z.string().min(2).optional(),
    primary_key: z.boolean().default(false),
    pii: z.boolean().default(false),
    description: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.type === 'enum' && !c.allowed) ctx.addIssue({ code: 'custom', path: ['allowed'], message: 'an enum needs allowed values' });
    if (c.format && c.type !== 'date' && c.type !== 'timestamp') {
      ctx.addIssue({ code: 'custom', path: ['format'], message: 'format applies to date and timestamp columns' });
    }
    if (c.pattern) {
      try {
        new RegExp(c.pattern);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'not a valid regular expression' });
      }
    }
  });
export type Column = z.infer<typeof ColumnSchema>;

export const ContractTestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('not_null'), column: Name }),
  z.object({ type: z.literal('unique'), columns: z.array(Name).min(1) }),
  z.object({ type: z.literal('accepted_values'), column: Name, values: z.array(z.string()).min(1) }),
  z.object({ type: z.literal('range'), column: Name, min: Bound.optional(), max: Bound.optional() }),
  /** A row-level SQL predicate over the contract's columns (checked against an allow-list). */
  z.object({ type: z.literal('expression'), name: z.string().regex(/^[a-z0-9_]{1,40}$/), expression: z.string().min(1).max(500) }),
]);
export type ContractTest = z.infer<typeof ContractTestSchema>;

export const FormatSchema = z
  .object({
    type: z.enum(['csv', 'jsonl', 'parquet']).default('csv'),
    delimiter: z.string().length(1).optional(),
    quote: z.string().length(1).default('"'),
    /** Values that mean "no value" besides the empty field. */
    null_tokens: z.array(z.string()).default([]),
  })
  .default({ type: 'csv', quote: '"', null_tokens: [] });

/** Columns the pipeline adds to every output; a contract may not use these names. */
const RESERVED = new Set(['row_id', 'pk_hash', 'reasons', 'disposition', 'duplicate_of', 'key_verdict', 'first_row']);

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
  })
  .superRefine((contract, ctx) => {
    const names = contract.columns.map((c) => c.name);
    const seen = new Set<string>();
    for (const [i, name] of names.entries()) {
      if (RESERVED.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `${name} is reserved for the pipeline's own columns` });
      if (seen.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `duplicate column ${name}` });
      seen.add(name.toLowerCase());
    }
    for (const [i, test] of contract.tests.entries()) {
      const used = test.type === 'unique' ? test.columns : test.type === 'expression' ? [] : [test.column];
      for (const column of used) {
        if (!seen.has(column.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['tests', i], message: `unknown column ${column}` });
      }
      if (test.type === 'expression') {
        const problem = checkExpression(test.expression, names);
        if (problem) ctx.addIssue({ code: 'custom', path: ['tests', i, 'expression'], message: problem });
      }
    }
  });
export type Contract = z.infer<typeof ContractSchema>;

export function primaryKey(contract: Contract): Column[] {
  return contract.columns.filter((c) => c.primary_key);
}
