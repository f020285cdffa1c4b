import { describe, expect, it } from 'vitest';
import { checkExpression } from '../../lib/contract/expression.ts';
import { ContractInvalidError, parseContract } from '../../lib/contract/registry.ts';

const base = { stream: 'orders', version: 1, columns: [{ name: 'id', type: 'integer' }, { name: 'amount', type: 'decimal' }] };

describe('contract expressions', () => {
  it('accepts predicates over the contract columns', () => {
    expect(checkExpression('amount >= 0 AND id IS NOT NULL', ['id', 'amount'])).toBeUndefined();
    expect(checkExpression("CAST(amount AS DOUBLE) < 10 OR lower(\"id\") <> 'x'", ['id', 'amount'])).toBeUndefined();
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
    ['getenv(\'HOME\') = \'x\'', /function not allowed/],
  ])('refuses %j', (expression, why) => {
    expect(checkExpression(expression, ['id', 'amount'])).toMatch(why);
  });
});

describe('contracts', () => {
  it('are validated with the reason named', () => {
    expect(() => parseContract({ ...base, columns: [...base.columns, { name: 'row_id', type: 'string' }] })).toThrow(/reserved/);
    expect(() => parseContract({ ...base, columns: [{ name: 'tier', type: 'enum' }] })).toThrow(/allowed/);
    expect(() => parseContract({ ...base, tests: [{ type: 'not_null', column: 'nope' }] })).toThrow(/unknown column nope/);
    expect(() => parseContract({ ...base, columns: [{ name: 'id', type: 'integer' }, { name: 'ID', type: 'string' }] })).toThrow(/duplicate column/);
    expect(() => parseContract({ ...base, tests: [{ type: 'expression', name: 'x', expression: 'id > (SELECT 1)' }] })).toThrow(ContractInvalidError);
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
