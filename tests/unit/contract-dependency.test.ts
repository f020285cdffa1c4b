import { describe, expect, it } from 'vitest';
import { ContractSchema } from '../../lib/contract/contract.ts';
import { DEFAULT_MIN_SHARE, DEFAULT_MIN_SUPPORT, dependencyRules } from '../../lib/evidence/dependency-rules.ts';

/** Dependency tests in a contract: what registers, what is refused (with the field named), and the rules that come out. */
const base = {
  stream: 'providers',
  version: 1,
  columns: [
    { name: 'provider_number', type: 'integer', primary_key: true },
    { name: 'zip', type: 'string' },
    { name: 'state', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'feed', type: 'string' },
  ],
};

const withTests = (...tests: unknown[]) => ({ ...base, tests });

/** The issues (path and message) a contract is refused with; fails the test when it parses. */
function issues(json: unknown): { path: (string | number)[]; message: string }[] {
  const parsed = ContractSchema.safeParse(json);
  expect(parsed.success).toBe(false);
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
}

describe('dependency tests in a contract', () => {
  it('register with every option, and the contract-level discover switches default to off', () => {
    const contract = ContractSchema.parse({
      ...withTests(
        { type: 'dependency', determinant: ['zip'], dependent: 'city' },
        { type: 'dependency', determinant: ['zip', 'state'], dependent: 'city', source: 'feed', min_support: 3, min_share: 0.75 },
      ),
      discover: {},
    });
    expect(contract.tests).toHaveLength(2);
    expect(contract.tests[1]).toEqual({
      type: 'dependency',
      determinant: ['zip', 'state'],
      dependent: 'city',
      source: 'feed',
      min_support: 3,
      min_share: 0.75,
    });
    expect(contract.discover).toEqual({ dependencies: false, domains: false });
    expect(ContractSchema.parse({ ...base, discover: { dependencies: true } }).discover).toEqual({ dependencies: true, domains: false });
    expect(ContractSchema.parse(base).discover).toBeUndefined();
  });

  it.each([
    ['determinant', { type: 'dependency', determinant: ['nope'], dependent: 'city' }, 'nope'],
    ['dependent', { type: 'dependency', determinant: ['zip'], dependent: 'town' }, 'town'],
    ['source', { type: 'dependency', determinant: ['zip'], dependent: 'city', source: 'origin' }, 'origin'],
  ])('refuse an unknown %s column, naming the test', (_field, test, column) => {
    const found = issues(withTests({ type: 'not_null', column: 'zip' }, test));
    expect(found).toEqual([{ path: ['tests', 1], message: `unknown column ${column}` }]);
  });

  it('refuse a determinant column listed twice (in any case), naming the second listing', () => {
    expect(issues(withTests({ type: 'dependency', determinant: ['zip', 'state', 'ZIP'], dependent: 'city' }))).toEqual([
      { path: ['tests', 0, 'determinant', 2], message: 'column ZIP is listed twice' },
    ]);
  });

  it('refuse a dependent that is part of its own determinant', () => {
    expect(issues(withTests({ type: 'dependency', determinant: ['zip', 'city'], dependent: 'City' }))).toEqual([
      { path: ['tests', 0, 'dependent'], message: 'a column cannot determine itself' },
    ]);
  });

  it('refuse a primary key as the dependent', () => {
    const found = issues(withTests({ type: 'dependency', determinant: ['zip'], dependent: 'provider_number' }));
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toEqual(['tests', 0, 'dependent']);
    expect(found[0]!.message).toMatch(/provider_number is the primary key/);
  });

  it('accept a primary key in the determinant (identity determines data)', () => {
    const contract = ContractSchema.parse(withTests({ type: 'dependency', determinant: ['provider_number'], dependent: 'city' }));
    expect(dependencyRules(contract).map((r) => r.id)).toEqual(['provider_number->city']);
  });

  it.each([
    ['a determinant column', { type: 'dependency', determinant: ['zip', 'state'], dependent: 'city', source: 'State' }],
    ['the dependent', { type: 'dependency', determinant: ['zip'], dependent: 'city', source: 'city' }],
  ])('refuse %s as the source column', (_what, test) => {
    expect(issues(withTests(test))).toEqual([
      { path: ['tests', 0, 'source'], message: 'the source column must be another column than the determinant and the dependent' },
    ]);
  });

  it.each([
    ['min_support', { min_support: 1 }],
    ['min_support', { min_support: 2.5 }],
    ['min_share', { min_share: 0.5 }],
    ['min_share', { min_share: 1.01 }],
    ['determinant', { determinant: [] }],
    ['determinant', { determinant: ['zip', 'state', 'city', 'feed', 'provider_number'] }],
  ])('refuse an out-of-range %s (%j)', (field, override) => {
    const found = issues(withTests({ type: 'dependency', determinant: ['zip'], dependent: 'city', ...override }));
    expect(found.length).toBeGreaterThan(0);
    for (const issue of found) expect(issue.path.slice(0, 3)).toEqual(['tests', 0, field]);
  });

  it('report every problem of a test at once', () => {
    const found = issues(withTests({ type: 'dependency', determinant: ['city', 'city'], dependent: 'city', source: 'city' }));
    expect(found.map((i) => i.path)).toEqual([
      ['tests', 0, 'determinant', 1],
      ['tests', 0, 'dependent'],
      ['tests', 0, 'source'],
    ]);
  });
});

describe('dependencyRules', () => {
  it('fill in the defaults and name each rule by its columns', () => {
    const contract = ContractSchema.parse(
      withTests(
        { type: 'not_null', column: 'city' },
        { type: 'dependency', determinant: ['zip'], dependent: 'city' },
        { type: 'dependency', determinant: ['zip', 'state'], dependent: 'city', source: 'feed', min_support: 4, min_share: 0.9 },
      ),
    );
    expect(DEFAULT_MIN_SUPPORT).toBe(2);
    expect(DEFAULT_MIN_SHARE).toBe(0.6);
    expect(dependencyRules(contract)).toEqual([
      { id: 'zip->city', determinant: ['zip'], dependent: 'city', min_support: 2, min_share: 0.6, origin: 'declared' },
      {
        id: 'zip+state->city',
        determinant: ['zip', 'state'],
        dependent: 'city',
        source: 'feed',
        min_support: 4,
        min_share: 0.9,
        origin: 'declared',
      },
    ]);
  });

  it("spell the columns as the contract's columns do, whatever case the test used", () => {
    const contract = ContractSchema.parse(
      withTests({ type: 'dependency', determinant: ['ZIP', 'State'], dependent: 'CITY', source: 'Feed' }),
    );
    const [rule] = dependencyRules(contract);
    expect(rule).toMatchObject({ id: 'zip+state->city', determinant: ['zip', 'state'], dependent: 'city', source: 'feed' });
  });

  it('are none for a contract without dependency tests', () => {
    expect(dependencyRules(ContractSchema.parse(withTests({ type: 'unique', columns: ['zip', 'city'] })))).toEqual([]);
  });
});
