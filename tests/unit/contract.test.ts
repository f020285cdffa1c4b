import { describe, expect, it } from 'vitest';
import { checkExpression } from '../../lib/contract/expression.ts';
import { ContractInvalidError, parseContract } from '../../lib/contract/registry.ts';

const base = {
  stream: 'orders',
  version: 1,
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'amount', type: 'decimal' },
  ],
};

describe('contract expressions', () => {
  it('accepts predicates over the contract columns', () => {
    expect(checkExpression('amount >= 0 AND id IS NOT NULL', ['id', 'amount'])).toBeUndefined();
    expect(checkExpression('CAST(amount AS DOUBLE) < 10 OR lower("id") <> \'x\'', ['id', 'amount'])).toBeUndefined();
  });

  it.each([
    ['amount > 0; DROP TABLE src', /separators/],
    ['amount > (SELECT max(amount) FROM src)', /unknown name: SELECT/],
    ["read_csv('/etc/passwd') IS NOT NULL", /function not allowed: read_csv/],
    ['amount > 0 -- comment', /comments/],
    ['amount > 0 --amount', /comments/],
    ['amount > 0 /* amount */', /comments/],

    ['secret > 0', /unknown name: secret/],
    ['"secret" > 0', /unknown column/],
    ['(amount > 0', /unbalanced/],
    ["getenv('HOME') = 'x'", /function not allowed/],
  ])('refuses %j', (expression, why) => {
    expect(checkExpression(expression, ['id', 'amount'])).toMatch(why);
  });
});

describe('contracts', () => {
  it('are validated with the reason named', () => {
    expect(() => parseContract({ ...base, columns: [...base.columns, { name: 'row_id', type: 'string' }] })).toThrow(/reserved/);
    expect(() => parseContract({ ...base, columns: [{ name: 'tier', type: 'enum' }] })).toThrow(/allowed/);
    expect(() => parseContract({ ...base, tests: [{ type: 'not_null', column: 'nope' }] })).toThrow(/unknown column nope/);
    expect(() =>
      parseContract({
        ...base,
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'ID', type: 'string' },
        ],
      }),
    ).toThrow(/duplicate column/);
    expect(() => parseContract({ ...base, tests: [{ type: 'expression', name: 'x', expression: 'id > (SELECT 1)' }] })).toThrow(
      ContractInvalidError,
    );
  });

  it('fill in defaults', () => {
    const contract = parseContract(base);
    expect(contract.format).toEqual({ type: 'csv', quote: '"', null_tokens: [] });
    expect(contract.columns[0]).toMatchObject({ nullable: true, primary_key: false, pii: false });
  });
});

describe('column names that are SQL keywords', () => {
  it('are refused, so an expression test cannot read as a query', async () => {
    const { ContractSchema } = await import('../../lib/contract/contract.ts');
    for (const name of ['select', 'FROM', 'where']) {
      expect(ContractSchema.safeParse({ stream: 's', version: 1, columns: [{ name, type: 'string' }] }).success).toBe(false);
    }
    expect(ContractSchema.safeParse({ stream: 's', version: 1, columns: [{ name: 'selection', type: 'string' }] }).success).toBe(true);
  });
});

describe('contradictory contracts', () => {
  const col = (extra: Record<string, unknown>) => ({
    ...base,
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'x', type: 'string', ...extra },
    ],
  });
  const refused = (json: unknown, why: RegExp) => expect(() => parseContract(json)).toThrow(why);

  it('refuse a nullable primary key, and a key defaults to not null', () => {
    refused(
      { ...base, columns: [{ name: 'id', type: 'integer', primary_key: true, nullable: true }] },
      /columns\.id\.nullable: a primary-key column cannot be nullable/,
    );
    const contract = parseContract({
      ...base,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'amount', type: 'decimal' },
      ],
    });
    expect(contract.columns.map((c) => c.nullable)).toEqual([false, true]);
  });

  it.each([
    [{ type: 'integer', min: 10, max: 1 }, /columns\.x\.min: min 10 is above max 1/],
    [{ type: 'decimal', min: '2.5', max: '2.25' }, /columns\.x\.min: min "2\.5" is above max "2\.25"/],
    [{ type: 'date', min: '2026-02-01', max: '2026-01-31' }, /columns\.x\.min: .*above max/],
    [{ type: 'timestamp', min: '2026-01-01T10:00:00+02:00', max: '2026-01-01T07:00:00Z' }, /columns\.x\.min: .*above max/],
    [{ type: 'string', min: 'b', max: 'a' }, /columns\.x\.min: .*above max/],
    [{ type: 'integer', min: 'ten' }, /columns\.x\.min: "ten" is not a number/],
    [{ type: 'date', max: '2026-02-30' }, /columns\.x\.max: "2026-02-30" is not an ISO date/],
    [{ type: 'date', min: 5 }, /columns\.x\.min: 5 is not an ISO date/],
    [{ type: 'boolean', min: 'false' }, /columns\.x\.min: a boolean column has no order/],
  ])('refuse bounds %j', (extra, why) => refused(col(extra), why));

  it('accept consistent bounds, including a timestamp range across zones', () => {
    expect(() => parseContract(col({ type: 'timestamp', min: '2026-01-01T07:00:00Z', max: '2026-01-01T10:00:00+02:00' }))).not.toThrow();
    expect(() => parseContract(col({ type: 'integer', min: 1, max: 1 }))).not.toThrow();
    expect(() => parseContract(col({ type: 'date', min: '2026-01-01', max: '2026-12-31', format: '%d/%m/%Y' }))).not.toThrow();
  });

  it.each([
    [{ type: 'integer', allowed: ['1', '007'] }, /columns\.x\.allowed\.1: allowed value "007" is not an integer/],
    [{ type: 'integer', allowed: ['1', '50'], max: 10 }, /columns\.x\.allowed\.1: allowed value "50" is above max 10/],
    [{ type: 'decimal', scale: 2, allowed: ['1.5', '1.505'] }, /allowed\.1: allowed value "1\.505" has more than scale 2/],
    [{ type: 'boolean', allowed: ['true', 'yes'] }, /allowed\.1: .*not true or false/],
    [{ type: 'date', allowed: ['2026-13-01'] }, /allowed\.0: .*not an ISO date/],
    [{ type: 'email', allowed: ['nobody'] }, /allowed\.0: .*not an email address/],
    [{ type: 'phone', allowed: ['555-0100'] }, /allowed\.0: .*E\.164/],
    [{ type: 'enum', allowed: ['A', 'b'], pattern: '[A-Z]' }, /allowed\.1: allowed value "b" does not match the column's pattern/],
    [{ type: 'enum', allowed: ['short', 'much too long'], max_length: 5 }, /allowed\.1: .*longer than max_length 5/],
    [{ type: 'enum', allowed: ['a', 'a'] }, /allowed\.1: allowed value "a" is listed twice/],
    [{ type: 'enum', allowed: ['a', ''] }, /allowed\.1: an empty allowed value reads as no value/],
    [{ type: 'integer', scale: 2 }, /columns\.x\.scale: scale applies to decimal columns only/],
  ])('refuse allowed values and options the column itself refuses: %j', (extra, why) => refused(col(extra), why));

  it('refuse an allowed value that is also a null token', () => {
    refused(
      { ...col({ type: 'enum', allowed: ['a', 'NA'] }), format: { null_tokens: ['NA'] } },
      /columns\.x\.allowed\.1: allowed value "NA" is also a null token/,
    );
  });

  it.each([
    [{ delimiter: ';', quote: ';' }, /format\.quote: the quote character \(which is also the escape\) equals the delimiter ";"/],
    [{ delimiter: ',' }, /format\.quote: .*equals the delimiter ","/, '"'],
    [{ quote: '|' }, /format\.quote: the quote character "\|" is one of the delimiters .*declare format\.delimiter/],
    [{ delimiter: '\n' }, /format\.delimiter: a line end cannot be the delimiter/],
    [{ quote: '\r', delimiter: ',' }, /format\.quote: a line end cannot be the quote/],
    [{ type: 'jsonl', delimiter: ',' }, /format\.delimiter: a delimiter applies to csv files only/],
    [{ null_tokens: ['NA', 'NA'] }, /format\.null_tokens\.1: null token "NA" is listed twice/],
    [{ null_tokens: [''] }, /format\.null_tokens\.0: the empty field already means no value/],
  ])('refuse a format %j', (format, why, quote?: string) => {
    refused({ ...base, format: quote ? { ...format, quote: ',' } : format }, why);
  });

  it('accept a quote that cannot be a delimiter, and a declared delimiter beside it', () => {
    expect(() => parseContract({ ...base, format: { quote: "'" } })).not.toThrow();
    expect(() => parseContract({ ...base, format: { quote: '|', delimiter: ',' } })).not.toThrow();
  });

  it.each([
    [[{ type: 'range', column: 'id', min: 5, max: 1 }], /tests\.0\.min: id: min 5 is above max 1/],
    [[{ type: 'range', column: 'id' }], /tests\.0: a range test needs min or max/],
    [[{ type: 'unique', columns: ['id', 'ID'] }], /tests\.0\.columns\.1: column ID is listed twice/],
    [[{ type: 'accepted_values', column: 'id', values: ['1', 'x'] }], /tests\.0\.values\.1: id: accepted value "x" is not an integer/],
    [
      [
        { type: 'expression', name: 'pos', expression: 'id > 0' },
        { type: 'expression', name: 'pos', expression: 'amount > 0' },
      ],
      /tests\.1\.name: a second expression test named pos/,
    ],
  ])('refuse tests %j', (tests, why) => refused({ ...base, tests }, why));

  it('refuse a duplicate column name, named by the field', () => {
    refused(
      {
        ...base,
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'Id', type: 'string' },
        ],
      },
      /columns\.Id\.name: duplicate column Id/,
    );
  });

  it('list every problem at once', () => {
    try {
      parseContract({ ...base, columns: [{ name: 'id', type: 'integer', primary_key: true, nullable: true, min: 3, max: 2 }] });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/columns\.id\.nullable[\s\S]*columns\.id\.min/);
    }
  });

  it('the example contracts of infra/contracts still register', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../../infra/contracts/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      expect(() => parseContract(JSON.parse(readFileSync(new URL(file, dir), 'utf8')), file)).not.toThrow();
    }
  });
});

describe('contract files', () => {
  it('that are not JSON are named in the message', async () => {
    const { parseContractText } = await import('../../lib/contract/registry.ts');
    expect(() => parseContractText('{ "stream": "orders", ', 'contracts/broken.json')).toThrow(/contracts\/broken\.json is not JSON/);
    expect(() => parseContractText('{"stream":"orders","version":0,"columns":[]}', 'c.json')).toThrow(
      /invalid contract c\.json:\n {2}version/,
    );
  });
});

describe('rounding', () => {
  const amount = (extra: Record<string, unknown>) => ({
    ...base,
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'amount', type: 'decimal', ...extra },
    ],
  });

  it('is accepted on a decimal with a declared scale, and absent by default', () => {
    expect(parseContract(amount({ scale: 2, rounding: 'half-even' })).columns[1]).toMatchObject({ rounding: 'half-even', scale: 2 });
    expect(parseContract(amount({ scale: 0, rounding: 'half-up' })).columns[1]).toMatchObject({ rounding: 'half-up' });
    expect(parseContract(amount({ scale: 2 })).columns[1]!.rounding).toBeUndefined();
  });

  it.each([
    [amount({ rounding: 'half-even' }), /columns\.amount\.rounding: rounding needs a declared scale/],
    [
      { ...base, columns: [{ name: 'id', type: 'integer', rounding: 'half-up' }] },
      /columns\.id\.rounding: rounding applies to decimal columns only/,
    ],
    [amount({ scale: 2, rounding: 'bankers' }), /columns\.amount\.rounding/],
  ])('is refused elsewhere: %j', (json, why) => expect(() => parseContract(json)).toThrow(why));
});

describe('stored contracts', () => {
  it('registered with the old nullable default on a key still load, as not null', async () => {
    const { loadContract } = await import('../../lib/contract/registry.ts');
    const { keys } = await import('../../lib/keys.ts');
    const stored = {
      contract: {
        ...base,
        format: { type: 'csv', quote: '"', null_tokens: [] },
        columns: [{ name: 'id', type: 'integer', primary_key: true, nullable: true, pii: false }],
      },
      fingerprint: 'f',
      registered_at: 't',
    };
    const store = { exists: async (k: string) => k === keys.contract('orders'), readText: async () => JSON.stringify(stored) } as never;
    expect((await loadContract(store, 'orders'))!.contract.columns[0]!.nullable).toBe(false);
  });
});
