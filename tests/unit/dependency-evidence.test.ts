import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Contract, ContractSchema } from '../../lib/contract/contract.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { literal } from '../../lib/engine/sql.ts';
import { computeDependencyEvidence, EVIDENCE_COLUMNS, KEY_SEPARATOR, RELIABLE_WITNESS } from '../../lib/evidence/dependency-evidence.ts';

/**
 * The evidence of a batch's dependencies, computed by the real engine over tables built here:
 * which rows are suspect, which groups are strong, and that nothing is invented.
 */
type Row = Record<string, string | null>;

interface Evidence {
  dependency: string;
  dependent: string;
  group_key: string;
  dominant: string | null;
  support: number;
  share: number;
  runner_up: string | null;
  runner_up_support: number;
  margin: number;
  witness: number | null;
  rival_witness: number | null;
  rows: number;
  disagreeing: number;
  strong: boolean;
}

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.open({ memoryLimit: '512MB', threads: 2, spillDir: '/tmp/vaultmend-test-spill' });
});
afterAll(() => engine.close());

/** A contract over text columns (city nullable unless said otherwise) with the given tests. */
function contractOf(tests: unknown[], options: { cityNullable?: boolean; extra?: unknown[] } = {}): Contract {
  return ContractSchema.parse({
    stream: 'places',
    version: 1,
    columns: [
      { name: 'zip', type: 'string' },
      { name: 'state', type: 'string' },
      { name: 'city', type: 'string', nullable: options.cityNullable ?? true },
      { name: 'feed', type: 'string' },
      ...(options.extra ?? []),
    ],
    tests,
  });
}

const zipCity = (more: Record<string, unknown> = {}) => ({ type: 'dependency', determinant: ['zip'], dependent: 'city', ...more });

/** Creates table `batch` (row_id and every contract column as text) from `rows`; row ids are 1, 2, ... */
async function load(contract: Contract, rows: Row[]): Promise<void> {
  const names = contract.columns.map((c) => c.name);
  const cell = (v: string | null | undefined) => (v === null || v === undefined ? 'NULL::VARCHAR' : literal(v));
  const values = rows.map((r, i) => `(${i + 1}, ${names.map((n) => cell(r[n])).join(', ')})`).join(', ');
  await engine.run(
    `CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM (VALUES ${values}) v(row_id, ${names.map((n) => `"${n}"`).join(', ')})`,
  );
}

/** Runs the evidence step over `rows`; the reasons per row id and the evidence rows. */
async function evidenceOf(contract: Contract, rows: Row[]) {
  await load(contract, rows);
  const result = await computeDependencyEvidence(engine, contract, 'batch');
  const reasons = new Map<number, string[]>();
  for (const r of await engine.rows<{ row_id: number; reason: string }>('SELECT row_id, reason FROM dependency_reasons ORDER BY ALL')) {
    reasons.set(Number(r.row_id), [...(reasons.get(Number(r.row_id)) ?? []), r.reason]);
  }
  const facts = (await engine.rows<Evidence>('SELECT * FROM facts_evidence ORDER BY dependency, group_key')).map((e) => ({
    ...e,
    support: Number(e.support),
    runner_up_support: Number(e.runner_up_support),
    rows: Number(e.rows),
    disagreeing: Number(e.disagreeing),
  }));
  return { result, reasons, facts };
}

const rowsOf = (zip: string, cities: (string | null)[], more: Row = {}): Row[] => cities.map((city) => ({ zip, city, ...more }));

describe('dependency evidence', () => {
  it('flags the typo minority of a group, and only it', async () => {
    const contract = contractOf([zipCity()]);
    const rows = [...rowsOf('35233', ['Birmingham', 'Birmingham', 'Birmingham', 'Birmingahm']), ...rowsOf('36301', ['Dothan', 'Dothan'])];
    const { result, reasons, facts } = await evidenceOf(contract, rows);
    expect(result).toEqual({ groups: 1, reasons: 1 });
    expect([...reasons]).toEqual([[4, ['city:dependency']]]);
    expect(facts).toHaveLength(1);
    expect(facts[0]).toMatchObject({
      dependency: 'zip->city',
      dependent: 'city',
      group_key: '35233',
      dominant: 'Birmingham',
      support: 3,
      share: 0.75,
      runner_up: 'Birmingahm',
      runner_up_support: 1,
      margin: 0.5,
      witness: null,
      rows: 4,
      disagreeing: 1,
      strong: true,
    });
    const [columns] = await engine.rows<{ names: string[] }>(
      "SELECT list(column_name ORDER BY column_index) AS names FROM duckdb_columns() WHERE table_name = 'facts_evidence'",
    );
    expect(columns!.names).toEqual([...EVIDENCE_COLUMNS]);
  });

  it('groups by every determinant column: the same zip in two states is two groups', async () => {
    const contract = contractOf([{ type: 'dependency', determinant: ['zip', 'state'], dependent: 'city' }]);
    const rows = [...rowsOf('10001', ['Alpha', 'Alpha', 'Alpah'], { state: 'AA' }), ...rowsOf('10001', ['Beta', 'Beta'], { state: 'BB' })];
    const { reasons, facts } = await evidenceOf(contract, rows);
    expect([...reasons]).toEqual([[3, ['city:dependency']]]);
    expect(facts.map((f) => [f.dependency, f.group_key, f.dominant])).toEqual([['zip+state->city', `10001${KEY_SEPARATOR}AA`, 'Alpha']]);
  });

  it('leaves a group that agrees out of the evidence, and rows without a determinant out of every group', async () => {
    const contract = contractOf([zipCity()]);
    const rows = [...rowsOf('35233', ['Birmingham', 'Birmingham']), { zip: null, city: 'Elsewhere' }, { zip: '', city: 'Nowhere' }];
    expect((await evidenceOf(contract, rows)).result).toEqual({ groups: 0, reasons: 0 });
  });

  it('calls a 1-vs-1 split contested, not strong: both rows go to a person (a tie has no dominant value)', async () => {
    const contract = contractOf([zipCity()]);
    const { result, reasons, facts } = await evidenceOf(contract, rowsOf('35233', ['Birmingham', 'Bessemer']));
    expect(facts).toHaveLength(1);
    // Ties go to the smaller text.
    expect(facts[0]).toMatchObject({ dominant: 'Bessemer', runner_up: 'Birmingham', share: 0.5, margin: 0, strong: false });
    expect(result).toEqual({ groups: 1, reasons: 2 });
    expect([...reasons].sort(([a], [b]) => a - b)).toEqual([
      [1, ['city:dependency-contested']],
      [2, ['city:dependency-contested']],
    ]);
    expect([...reasons.values()].flat()).not.toContain('city:dependency');
  });

  it('is not strong below min_support, even when every other row agrees', async () => {
    // 2 of 3 rows: share 0.67 passes the default min_share, 2 rows pass the default min_support, but not min_support 3.
    const rows = rowsOf('35233', ['Birmingham', 'Birmingham', 'Bessemer']);
    const strict = await evidenceOf(contractOf([zipCity({ min_support: 3 })]), rows);
    expect(strict.facts[0]).toMatchObject({ dominant: 'Birmingham', support: 2, strong: false });
    expect([...strict.reasons]).toEqual([[3, ['city:dependency-contested']]]);
    const defaults = await evidenceOf(contractOf([zipCity()]), rows);
    expect(defaults.facts[0]).toMatchObject({ dominant: 'Birmingham', support: 2, strong: true });
    expect([...defaults.reasons]).toEqual([[3, ['city:dependency']]]);
  });

  it('is not strong below min_share', async () => {
    const rows = rowsOf('35233', ['Birmingham', 'Birmingham', 'Birmingham', 'Bessemer', 'Hoover']);
    const { facts, reasons } = await evidenceOf(contractOf([zipCity({ min_share: 0.65 })]), rows);
    expect(facts[0]).toMatchObject({ dominant: 'Birmingham', share: 0.6, strong: false });
    expect([...reasons]).toEqual([
      [4, ['city:dependency-contested']],
      [5, ['city:dependency-contested']],
    ]);
  });

  it('never flags a missing value of a nullable dependent', async () => {
    const rows = rowsOf('35233', ['Birmingham', 'Birmingham', null, '', 'Bessemer']);
    const { reasons, facts } = await evidenceOf(contractOf([zipCity()]), rows);
    expect(facts[0]).toMatchObject({ dominant: 'Birmingham', rows: 5, disagreeing: 1, strong: true });
    expect([...reasons]).toEqual([[5, ['city:dependency']]]);
  });

  it('flags a missing value of a required dependent when the group is strong, and only then', async () => {
    const required = contractOf([zipCity()], { cityNullable: false });
    const strong = await evidenceOf(required, rowsOf('35233', ['Birmingham', 'Birmingham', null, '']));
    expect(strong.facts[0]).toMatchObject({ dominant: 'Birmingham', disagreeing: 2, strong: true });
    expect([...strong.reasons]).toEqual([
      [3, ['city:dependency']],
      [4, ['city:dependency']],
    ]);
    // One vote is below min_support: the group is not strong, and a missing value is not contested (no value to weigh).
    const weak = await evidenceOf(required, rowsOf('35233', ['Birmingham', null]));
    expect(weak.facts[0]).toMatchObject({ dominant: 'Birmingham', support: 1, disagreeing: 1, strong: false });
    expect(weak.result).toEqual({ groups: 1, reasons: 0 });
  });

  it("counts a value the dependent's own rules refuse as no vote, and flags it when the group is strong", async () => {
    const contract = ContractSchema.parse({
      stream: 'places',
      version: 1,
      columns: [
        { name: 'zip', type: 'string' },
        { name: 'city', type: 'string', pattern: '[A-Z][a-z]+' },
      ],
      tests: [zipCity()],
    });
    // The invalid value is the most frequent one, yet never the dominant.
    const rows = rowsOf('35233', ['BHAM!', 'BHAM!', 'BHAM!', 'Birmingham', 'Birmingham']);
    const { facts, reasons } = await evidenceOf(contract, rows);
    expect(facts[0]).toMatchObject({ dominant: 'Birmingham', support: 2, share: 1, disagreeing: 3, strong: true });
    expect([...reasons.keys()]).toEqual([1, 2, 3]);
  });

  it('weighs sources by their measured agreement: a reliable source outvotes two unreliable ones that copy each other', async () => {
    // Feeds a, d and e report independently; b and c copy each other, and are wrong wherever they
    // report alongside the others. In 60601 only a reports against the copies, with fewer rows.
    const rows: Row[] = [];
    for (let g = 0; g < 6; g++) {
      const zip = `1000${g}`;
      for (const feed of ['a', 'd', 'e']) rows.push({ zip, city: `Town${g}`, feed });
      for (const feed of ['b', 'c']) rows.push({ zip, city: `Twon${g}`, feed });
    }
    for (let g = 0; g < 10; g++) for (const feed of ['a', 'd', 'e']) rows.push({ zip: `2000${g}`, city: `Ville${g}`, feed });
    const contested = rows.length;
    rows.push(
      { zip: '60601', city: 'Chicago', feed: 'a' },
      { zip: '60601', city: 'Chicago', feed: 'a' },
      ...['b', 'b', 'c', 'c'].map((feed) => ({ zip: '60601', city: 'Chciago', feed })),
    );
    const weighted = await evidenceOf(contractOf([zipCity({ source: 'feed' })]), rows);
    const chicago = weighted.facts.find((f) => f.group_key === '60601')!;
    expect(chicago).toMatchObject({ dominant: 'Chicago', support: 2, runner_up: 'Chciago', runner_up_support: 4, strong: true });
    expect(chicago.witness).toBeGreaterThanOrEqual(RELIABLE_WITNESS);
    expect(chicago.rival_witness).toBeLessThan(0.5);
    expect(chicago.share).toBeGreaterThan(0.9);
    // The copies' rows are the suspects, everywhere; the reliable source's never are.
    const flagged = [...weighted.reasons].filter(([, r]) => r.includes('city:dependency')).map(([id]) => rows[id - 1]!);
    expect(flagged.map((r) => r.feed).sort()).toEqual([...Array(8).fill('b'), ...Array(8).fill('c')]);
    expect([...weighted.reasons.keys()].filter((id) => id > contested)).toEqual([
      contested + 3,
      contested + 4,
      contested + 5,
      contested + 6,
    ]);
    for (const f of weighted.facts) {
      expect(f.witness).not.toBeNull();
      expect(f.strong).toBe(true);
    }
    // Unweighted, the copies' four rows win the group, and the reliable rows would be the ones flagged.
    const counted = await evidenceOf(contractOf([zipCity()]), rows);
    expect(counted.facts.find((f) => f.group_key === '60601')).toMatchObject({ dominant: 'Chciago', witness: null, strong: true });
    expect([...counted.reasons.keys()].filter((id) => id > contested)).toEqual([contested + 1, contested + 2]);
  });
});

/** Random small tables: a few zips, cities from a small alphabet (with missing values). */
const CITIES = ['Ames', 'Boone', 'Cedar', 'Dane'];
const rowArb = fc.record({
  zip: fc.constantFrom('11111', '22222', '33333', null),
  state: fc.constantFrom('AA', 'BB'),
  city: fc.constantFrom(...CITIES, '', null),
});
const tableArb = fc.array(rowArb, { minLength: 1, maxLength: 40 });
const thresholdsArb = fc.record({
  min_support: fc.integer({ min: 2, max: 4 }),
  min_share: fc.double({ min: 0.51, max: 1, noNaN: true }),
  cityNullable: fc.boolean(),
  pair: fc.boolean(),
});
const present = (v: string | null | undefined): v is string => v !== null && v !== undefined && v !== '';
const PROPERTY = { numRuns: 40 };

describe('dependency evidence, for random tables', () => {
  it('never flags a value that is the strict majority of its group', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, thresholdsArb, async (rows, t) => {
        const determinant = t.pair ? ['zip', 'state'] : ['zip'];
        const contract = contractOf(
          [{ type: 'dependency', determinant, dependent: 'city', min_support: t.min_support, min_share: t.min_share }],
          {
            cityNullable: t.cityNullable,
          },
        );
        const { reasons } = await evidenceOf(contract, rows);
        const keyOf = (r: Row) => (determinant.every((c) => present(r[c])) ? determinant.map((c) => r[c]).join(KEY_SEPARATOR) : undefined);
        rows.forEach((row, i) => {
          const key = keyOf(row);
          if (key === undefined || !present(row.city)) return;
          const group = rows.filter((r) => keyOf(r) === key);
          const same = group.filter((r) => r.city === row.city).length;
          if (2 * same > group.length) expect(reasons.get(i + 1) ?? []).toEqual([]);
        });
      }),
      PROPERTY,
    );
  });

  it("invents nothing: a strong group's dominant value is carried by at least min_support of the group's rows", {
    timeout: 60_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, thresholdsArb, async (rows, t) => {
        const determinant = t.pair ? ['zip', 'state'] : ['zip'];
        const contract = contractOf(
          [{ type: 'dependency', determinant, dependent: 'city', min_support: t.min_support, min_share: t.min_share }],
          {
            cityNullable: t.cityNullable,
          },
        );
        const { facts, reasons } = await evidenceOf(contract, rows);
        const keyOf = (r: Row) => (determinant.every((c) => present(r[c])) ? determinant.map((c) => r[c]).join(KEY_SEPARATOR) : undefined);
        for (const f of facts) {
          const group = rows.filter((r) => keyOf(r) === f.group_key);
          expect(group.length).toBe(f.rows);
          const carrying = group.filter((r) => r.city === f.dominant).length;
          expect(carrying).toBe(f.support);
          if (f.strong) {
            expect(f.dominant).not.toBeNull();
            expect(CITIES).toContain(f.dominant);
            expect(carrying).toBeGreaterThanOrEqual(t.min_support);
            expect(f.share).toBeGreaterThanOrEqual(t.min_share);
          }
        }
        // Every flagged row belongs to a group in the evidence and does not carry its dominant value.
        for (const [id, why] of reasons) {
          const row = rows[id - 1]!;
          const f = facts.find((e) => e.group_key === keyOf(row));
          expect(f).toBeDefined();
          // In a tie every row with a value is contested, the smaller text's included.
          if (f!.strong || f!.margin > 0) expect(row.city).not.toBe(f!.dominant);
          expect(why).toEqual([f!.strong ? 'city:dependency' : 'city:dependency-contested']);
        }
      }),
      PROPERTY,
    );
  });

  it('yields no evidence for a contract without dependency tests', { timeout: 60_000 }, async () => {
    const otherTests = fc.subarray([
      { type: 'not_null', column: 'city' },
      { type: 'unique', columns: ['zip', 'city'] },
      { type: 'accepted_values', column: 'city', values: CITIES },
      { type: 'expression', name: 'zip_len', expression: 'length(zip) = 5' },
    ]);
    await fc.assert(
      fc.asyncProperty(tableArb, otherTests, async (rows, tests) => {
        const contract = contractOf(tests);
        await load(contract, rows);
        expect(await computeDependencyEvidence(engine, contract, 'batch')).toEqual({ groups: 0, reasons: 0 });
      }),
      PROPERTY,
    );
  });
});
