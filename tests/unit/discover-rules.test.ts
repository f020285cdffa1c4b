import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Contract, ContractSchema } from '../../lib/contract/contract.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { literal } from '../../lib/engine/sql.ts';
import { type Discovered, DISCOVERY_ROWS, discoverRules, domainReasons } from '../../lib/evidence/discover-rules.ts';
import { classifyRows } from '../../lib/ingest/bouncer.ts';
import { loadSourceTable, openSource } from '../../lib/ingest/load-source.ts';

/**
 * Discovery on the real engine (DuckDB): which approximate dependencies and value domains a batch
 * shows, that they are always reported, and that they flag rows only where the contract allows.
 */
type Row = Record<string, string | null>;

let dir: string;
let engine: Engine;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vm-discover-'));
  engine = await Engine.open({ memoryLimit: '512MB', threads: 2, spillDir: join(dir, 'spill') });
});
afterAll(() => {
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A contract over nullable text columns (no primary key), with the given tests and `discover`. */
function contractOf(names: string[], more: { tests?: unknown[]; discover?: unknown } = {}): Contract {
  return ContractSchema.parse({
    stream: 'discovery',
    version: 1,
    columns: names.map((name) => ({ name, type: 'string' })),
    tests: more.tests ?? [],
    ...(more.discover ? { discover: more.discover } : {}),
  });
}

/** Creates table `batch` (row_id and every contract column as text) from `rows`; row ids are 1, 2, ... */
async function load(contract: Contract, rows: Row[]): Promise<void> {
  const names = contract.columns.map((c) => c.name);
  const cell = (v: string | null | undefined) => (v === null || v === undefined ? 'NULL::VARCHAR' : literal(v));
  const values = rows.map((r, i) => `(${i + 1}, ${names.map((n) => cell(r[n])).join(', ')})`).join(', ');
  await engine.run(
    `CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM (VALUES ${values}) v(row_id, ${names.map((n) => `"${n}"`).join(', ')})`,
  );
}

const byId = (d: Discovered) => new Map(d.dependencies.map((x) => [x.id, x]));
const domainOf = (d: Discovered, column: string) => d.domains.find((x) => x.column === column);
const repeat = (value: string, n: number): string[] => Array.from({ length: n }, () => value);

/** 10 codes of 5 rows each, every code with its own name except one typo row (row 23, code c3). */
const TYPO_ROW = 23;
const codeNameRows = (): Row[] =>
  Array.from({ length: 50 }, (_, i) => {
    const id = i + 1;
    return { code: `c${id % 10}`, name: id === TYPO_ROW ? 'n3x' : `n${id % 10}` };
  });

describe('discovered dependencies', () => {
  it('reports code->name despite one typo row, acting only when allowed and not declared', async () => {
    const plain = contractOf(['code', 'name']);
    await load(plain, codeNameRows());

    const reported = byId(await discoverRules(engine, plain, 'batch')).get('code->name');
    expect(reported).toBeDefined();
    expect(reported!.agreement).toBeGreaterThanOrEqual(0.95);
    expect(reported!.agreement).toBeLessThan(1);
    // 49 of the 50 rows carry their group's dominant name; every row is in a group of 5.
    expect(reported).toEqual({
      id: 'code->name',
      determinant: ['code'],
      dependent: 'name',
      agreement: 0.98,
      coverage: 1,
      groups: 10,
      acting: false,
    });

    const allowed = contractOf(['code', 'name'], { discover: { dependencies: true } });
    expect(byId(await discoverRules(engine, allowed, 'batch')).get('code->name')).toMatchObject({ agreement: 0.98, acting: true });

    // Declared wins: the declared rule acts (through the evidence step), the discovered copy does not.
    // Only that pair: the reverse dependency, not declared, still acts.
    const declared = contractOf(['code', 'name'], {
      discover: { dependencies: true },
      tests: [{ type: 'dependency', determinant: ['code'], dependent: 'name' }],
    });
    const withDeclared = byId(await discoverRules(engine, declared, 'batch'));
    expect(withDeclared.get('code->name')).toMatchObject({ agreement: 0.98, acting: false });
    expect(withDeclared.get('name->code')).toMatchObject({ agreement: 1, acting: true });
  });

  it('reports no dependency on a near-constant dependent, nor from a unique or barely repeating determinant', async () => {
    const contract = contractOf(['code', 'name', 'status', 'serial', 'ticket']);
    const rows: Row[] = Array.from({ length: 40 }, (_, i) => ({
      code: `c${i % 8}`,
      name: `n${i % 8}`,
      // 39 of 40 rows (97.5% >= 95%): anything would "determine" it.
      status: i === 5 ? 'closed' : 'active',
      // Every value once.
      serial: `s${i}`,
      // 24 values over 40 rows: 16 pairs that agree on name (coverage 0.8), but more than half as many values as rows.
      ticket: i < 32 ? `t${i % 16}` : `u${i}`,
    }));
    await load(contract, rows);
    const ids = [...byId(await discoverRules(engine, contract, 'batch')).keys()].sort();
    // The control: code and name determine each other (and the near-constant status is no dependent of either).
    expect(ids).toEqual(['code->name', 'name->code']);

    // The near-constant status would pass agreement (39/40) and coverage were it not excluded: show the
    // same shape with a varied dependent is reported, so the exclusion is what keeps code->status out.
    const varied = rows.map((r, i) => ({ ...r, status: i === 5 ? 'closed' : `st${i % 8}` }));
    await load(contract, varied);
    expect([...byId(await discoverRules(engine, contract, 'batch')).keys()]).toContain('code->status');
  });

  it('reports nothing on thin evidence: groups holding under half the rows, or a single group', async () => {
    const contract = contractOf(['code', 'note', 'flag', 'kind']);
    const rows: Row[] = Array.from({ length: 41 }, (_, i) => ({
      code: i < 40 ? `c${i % 8}` : null,
      // Present on 16 of code's 40 rows, two per code, agreeing: coverage 0.4.
      note: i < 16 ? `m${i % 8}` : null,
      // Only one group of two or more rows (y, 20 rows, every one kind k1).
      flag: i < 20 ? 'y' : i === 20 ? 'z' : null,
      kind: i < 20 ? 'k1' : i === 20 ? 'k2' : `q${i % 4}`,
    }));
    await load(contract, rows);
    const ids = [...byId(await discoverRules(engine, contract, 'batch')).keys()];
    expect(ids).not.toContain('code->note');
    expect(ids).not.toContain('flag->kind');
    // The control: note determines code wherever both are present (8 groups of 2, all of note's rows).
    expect(byId(await discoverRules(engine, contract, 'batch')).get('note->code')).toMatchObject({ agreement: 1, coverage: 1, groups: 8 });
  });
});

describe('discovered domains', () => {
  const COLUMNS: Record<string, string[]> = {
    city: [...repeat('birmingham', 12), 'birminghxm'],
    // Digits carry meaning: 57 is no typo of 37.
    label: [...repeat('37 patients', 12), '57 patients'],
    // The same edit that keeps the digits is one.
    label_ok: [...repeat('37 patients', 12), '37 patient'],
    // Two edits away.
    far: [...repeat('birmingham', 12), 'birmingxxm'],
    // Only case.
    caps: [...repeat('birmingham', 12), 'BIRMINGHAM'],
    // Equally near two frequent values ...
    tie: [...repeat('cat', 12), ...repeat('hat', 12), 'bat'],
    // ... while near only one of them it is an outlier.
    solo: [...repeat('cat', 12), 'bat'],
    // Frequent (>= 5 rows) but not 10 times as many.
    ratio: [...repeat('birmingham', 9), 'birminghxm'],
  };
  const names = Object.keys(COLUMNS);
  const height = Math.max(...Object.values(COLUMNS).map((v) => v.length));
  const rows: Row[] = Array.from({ length: height }, (_, i) => Object.fromEntries(names.map((n) => [n, COLUMNS[n]![i] ?? null])));

  it('finds the value one edit from exactly one frequent value, with the same digits', async () => {
    const contract = contractOf(names);
    await load(contract, rows);
    const discovered = await discoverRules(engine, contract, 'batch');
    expect(domainOf(discovered, 'city')).toEqual({ column: 'city', frequent_values: 1, outlier_values: 1, outlier_rows: 1, acting: false });
    const facts = await engine.rows<{ column_name: string; value: string; nearest: string; value_rows: string; nearest_rows: string }>(
      'SELECT * FROM facts_domains ORDER BY column_name, value',
    );
    expect(facts.map((f) => [f.column_name, f.value, f.nearest, Number(f.value_rows), Number(f.nearest_rows)])).toEqual([
      ['caps', 'BIRMINGHAM', 'birmingham', 1, 12],
      ['city', 'birminghxm', 'birmingham', 1, 12],
      ['label_ok', '37 patient', '37 patients', 1, 12],
      ['solo', 'bat', 'cat', 1, 12],
    ]);
    const outliers = Object.fromEntries(discovered.domains.map((d) => [d.column, d.outlier_values]));
    expect(outliers).toEqual({ caps: 1, city: 1, far: 0, label: 0, label_ok: 1, ratio: 0, solo: 1, tie: 0 });
    expect(domainOf(discovered, 'tie')).toMatchObject({ frequent_values: 2, outlier_values: 0 });
  });

  it('marks only the domains with outliers as acting, and only with discover.domains', async () => {
    await load(contractOf(names), rows);
    const allowed = await discoverRules(engine, contractOf(names, { discover: { domains: true } }), 'batch');
    const acting = Object.fromEntries(allowed.domains.map((d) => [d.column, d.acting]));
    expect(acting).toEqual({ caps: true, city: true, far: false, label: false, label_ok: true, ratio: false, solo: true, tie: false });
    const dependenciesOnly = await discoverRules(engine, contractOf(names, { discover: { dependencies: true } }), 'batch');
    expect(dependenciesOnly.domains.filter((d) => d.acting)).toEqual([]);
  });
});

describe('discovery through the bouncer', () => {
  /** 50 rows: code -> name with one typo (row 23), and a city column with one outlier (row 50). */
  function csv(): string {
    const cities = ['auburn', 'dothan', 'mobile', 'birmingham'];
    const lines = codeNameRows().map((r, i) => {
      const id = i + 1;
      const city = id === 50 ? 'birminghxm' : cities[id % 4]!;
      return `${id},${r.code},${r.name},${city}`;
    });
    return `id,code,name,city\n${lines.join('\n')}\n`;
  }

  function contract(discover?: { dependencies?: boolean; domains?: boolean }): Contract {
    return ContractSchema.parse({
      stream: 'discovery',
      version: 1,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'code', type: 'string' },
        { name: 'name', type: 'string' },
        { name: 'city', type: 'string' },
      ],
      ...(discover ? { discover } : {}),
    });
  }

  async function classify(c: Contract) {
    const path = join(dir, 'in.csv');
    writeFileSync(path, csv());
    const reader = await openSource(engine, { path, format: c.format, gzip: false });
    expect(await loadSourceTable(engine, reader, c)).toBe(50);
    const result = await classifyRows(engine, c);
    const flagged = await engine.rows<{ row_id: string; reasons: string[] }>(
      `SELECT row_id, reasons FROM verdicts WHERE disposition <> 'clean' ORDER BY row_id`,
    );
    return { result, flagged: flagged.map((r) => [Number(r.row_id), [...r.reasons]]) };
  }

  it('is inert without discover, yet reports what it found', async () => {
    const { result, flagged } = await classify(contract());
    expect(result.counts).toEqual({ source: 50, clean: 50, suspect: 0, quarantined: 0, duplicates_collapsed: 0 });
    expect(result.reasons).toEqual({});
    expect(flagged).toEqual([]);
    expect(result.facts.domains).toBeFalsy();
    const discovered = result.facts.discovered!;
    expect(byId(discovered).get('code->name')).toMatchObject({ agreement: 0.98, acting: false });
    expect(domainOf(discovered, 'city')).toMatchObject({ outlier_values: 1, outlier_rows: 1, acting: false });
    // The primary key is identity, never part of a discovered rule.
    expect(discovered.dependencies.flatMap((d) => [...d.determinant, d.dependent])).not.toContain('id');
    expect(discovered.domains.map((d) => d.column)).not.toContain('id');
  });

  it('flags the typo row (:dependency) and the outlier row (:domain) when both may act', async () => {
    const { result, flagged } = await classify(contract({ dependencies: true, domains: true }));
    expect(result.counts).toEqual({ source: 50, clean: 48, suspect: 2, quarantined: 0, duplicates_collapsed: 0 });
    expect(result.reasons).toEqual({ 'name:dependency': 1, 'city:domain': 1 });
    expect(flagged).toEqual([
      [TYPO_ROW, ['name:dependency']],
      [50, ['city:domain']],
    ]);
    expect(result.facts.domains).toBe(true);
    const discovered = result.facts.discovered!;
    expect(byId(discovered).get('code->name')).toMatchObject({ agreement: 0.98, acting: true });
    expect(domainOf(discovered, 'city')).toMatchObject({ outlier_values: 1, outlier_rows: 1, acting: true });
  });

  it('lets each kind act on its own', async () => {
    const dependencies = await classify(contract({ dependencies: true }));
    expect(dependencies.result.reasons).toEqual({ 'name:dependency': 1 });
    const domains = await classify(contract({ domains: true }));
    expect(domains.result.reasons).toEqual({ 'city:domain': 1 });
  });
});

describe('discovery is bounded', () => {
  const total = DISCOVERY_ROWS + 200;

  /**
   * `total` rows in SQL: code -> name holds in 96% of the first DISCOVERY_ROWS rows (every 25th row
   * an odd name); every later row breaks it (96% would fall below 95% over the whole table), and one
   * later row holds a city outlier.
   */
  async function build(): Promise<void> {
    await engine.run(`CREATE OR REPLACE TEMP TABLE batch AS
      SELECT i AS row_id, 'c' || (i % 97) AS code,
        CASE WHEN i > ${DISCOVERY_ROWS} THEN 'late' || i WHEN i % 25 = 0 THEN 'odd' || i ELSE 'n' || (i % 97) END AS name,
        CASE WHEN i = ${DISCOVERY_ROWS + 100} THEN 'birminghxm' WHEN i % 2 = 0 THEN 'birmingham' ELSE 'dothan' END AS city
      FROM range(1, ${total + 1}) t(i)`);
    const [n] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM batch');
    expect(Number(n!.n)).toBe(total);
  }

  it('ignores the rows beyond DISCOVERY_ROWS', async () => {
    const contract = contractOf(['code', 'name', 'city'], { discover: { dependencies: true, domains: true } });
    await build();

    // The control: with the late rows inside the sample (the table read backwards), the dependency breaks and the outlier shows.
    const backwards = await discoverRules(engine, contract, `(SELECT ${total + 1} - row_id AS row_id, code, name, city FROM batch)`);
    expect(byId(backwards).has('code->name')).toBe(false);
    expect(domainOf(backwards, 'city')).toMatchObject({ outlier_values: 1 });

    const discovered = await discoverRules(engine, contract, 'batch');
    expect(byId(discovered).get('code->name')).toEqual({
      id: 'code->name',
      determinant: ['code'],
      dependent: 'name',
      agreement: 0.96,
      coverage: 1,
      groups: 97,
      acting: true,
    });
    expect(domainOf(discovered, 'city')).toMatchObject({ outlier_values: 0, outlier_rows: 0, acting: false });
    expect(await engine.rows('SELECT * FROM facts_domains')).toEqual([]);

    // Exactly what the first DISCOVERY_ROWS rows alone give.
    const firstOnly = await discoverRules(engine, contract, `(SELECT * FROM batch WHERE row_id <= ${DISCOVERY_ROWS})`);
    expect(discovered).toEqual(firstOnly);
  });
});

describe('domain outliers, found on the sample and checked on the batch', () => {
  it('matches case and spacing whatever the difference in length', async () => {
    const contract = contractOf(['city']);
    await load(contract, [...repeat('new york', 12).map((city) => ({ city })), { city: '  New   York ' }]);
    await discoverRules(engine, contract, 'batch');
    const facts = await engine.rows<{ value: string; nearest: string }>('SELECT value, nearest FROM facts_domains');
    expect(facts).toEqual([{ value: '  New   York ', nearest: 'new york' }]);
  });

  it('does not flag a value rare in the sample that is common in the whole batch', async () => {
    const contract = contractOf(['city'], { discover: { domains: true } });
    // Rows 1..DISCOVERY_ROWS: 'cat' everywhere but one 'bat'; after the sample, 'bat' 50 times more.
    await engine.run(`CREATE OR REPLACE TEMP TABLE batch AS
      SELECT i AS row_id, CASE WHEN i = 7 OR i > ${DISCOVERY_ROWS} THEN 'bat' ELSE 'cat' END AS city
      FROM range(1, ${DISCOVERY_ROWS + 51}) t(i)`);
    const found = await discoverRules(engine, contract, 'batch');
    expect(domainOf(found, 'city')).toMatchObject({ outlier_values: 1, acting: true });
    expect(await domainReasons(engine, contract, 'batch')).toBe(0);
    // The same outlier, rare in the whole batch too, is flagged.
    await engine.run(`CREATE OR REPLACE TEMP TABLE batch AS
      SELECT i AS row_id, CASE WHEN i = 7 THEN 'bat' ELSE 'cat' END AS city FROM range(1, ${DISCOVERY_ROWS + 51}) t(i)`);
    await discoverRules(engine, contract, 'batch');
    expect(await domainReasons(engine, contract, 'batch')).toBe(1);
  });
});
