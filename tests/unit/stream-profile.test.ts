import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Contract, ContractSchema } from '../../lib/contract/contract.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { literal } from '../../lib/engine/sql.ts';
import { computeDependencyEvidence } from '../../lib/evidence/dependency-evidence.ts';
import { loadStreamProfile, PROFILE_BATCHES, PROFILE_GROUPS, writeStreamProfile } from '../../lib/evidence/stream-profile.ts';
import { keys } from '../../lib/keys.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';

/**
 * The stream's profile, written and read through the real file-backed store and the real engine:
 * a small batch is judged against the curated history of its stream, never against itself, and
 * what is kept and read is bounded.
 */
type Row = Record<string, string | null>;

const root = mkdtempSync(join(tmpdir(), 'vm-stream-profile-'));
let engine: Engine;
let counter = 0;

beforeAll(async () => {
  engine = await Engine.open({ memoryLimit: '512MB', threads: 2, spillDir: join(root, 'spill') });
});
afterAll(async () => {
  await engine.close();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh vault and a fresh local work directory: no test sees another's profiles. */
function world(): { store: FileObjectStore; dir: () => string } {
  const base = mkdtempSync(join(root, `world-${counter++}-`));
  let n = 0;
  return { store: new FileObjectStore(join(base, 'vault')), dir: () => mkdtempSync(join(base, `work-${n++}-`)) };
}

const STREAM = 'places';
const zipCity = { type: 'dependency', determinant: ['zip'], dependent: 'city' };

function contractOf(columns: unknown[], tests: unknown[]): Contract {
  return ContractSchema.parse({ stream: STREAM, version: 1, columns, tests });
}

/** zip (text), city (text), visits (integer: typed BIGINT in a promoted table). */
const places = (tests: unknown[] = [zipCity]) =>
  contractOf(
    [
      { name: 'zip', type: 'string' },
      { name: 'city', type: 'string', nullable: true },
      { name: 'visits', type: 'integer', nullable: true },
    ],
    tests,
  );

/** Creates table `name` (row_id and every contract column as text) from `rows`; row ids are 1, 2, ... */
async function load(name: string, contract: Contract, rows: Row[]): Promise<void> {
  const names = contract.columns.map((c) => c.name);
  const cell = (v: string | null | undefined) => (v === null || v === undefined ? 'NULL::VARCHAR' : literal(v));
  const values = rows.map((r, i) => `(${i + 1}, ${names.map((n) => cell(r[n])).join(', ')})`).join(', ');
  await engine.run(
    `CREATE OR REPLACE TEMP TABLE ${name} AS SELECT * FROM (VALUES ${values}) v(row_id, ${names.map((n) => `"${n}"`).join(', ')})`,
  );
}

/** A promoted (typed) curated table: `visits` as BIGINT, the text columns as they are. */
async function loadCurated(name: string, rows: Row[]): Promise<void> {
  await load(`${name}_text`, places(), rows);
  await engine.run(
    `CREATE OR REPLACE TEMP TABLE ${name} AS SELECT row_id, zip, city, TRY_CAST(visits AS BIGINT) AS visits FROM ${name}_text`,
  );
  await engine.run(`DROP TABLE ${name}_text`);
}

const rowsOf = (zip: string, cities: (string | null)[]): Row[] => cities.map((city, i) => ({ zip, city, visits: String(i) }));

async function historyVotes(): Promise<Array<{ dependency: string; group_key: string; value: string; n: number }>> {
  return (
    await engine.rows<{ dependency: string; group_key: string; value: string; n: string }>(
      'SELECT dependency, group_key, value, n FROM history_votes ORDER BY ALL',
    )
  ).map((r) => ({ ...r, n: Number(r.n) }));
}

async function hasHistory(): Promise<boolean> {
  const [row] = await engine.rows<{ n: string }>("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'history_votes'");
  return Number(row!.n) > 0;
}

/** Runs the evidence step over table `batch`; reasons per row id and the evidence rows. */
async function evidence(contract: Contract) {
  const result = await computeDependencyEvidence(engine, contract, 'batch');
  const reasons = new Map<number, string[]>();
  for (const r of await engine.rows<{ row_id: number; reason: string }>('SELECT row_id, reason FROM dependency_reasons ORDER BY ALL')) {
    reasons.set(Number(r.row_id), [...(reasons.get(Number(r.row_id)) ?? []), r.reason]);
  }
  const facts = (
    await engine.rows<{ group_key: string; dominant: string; support: string; share: number; strong: boolean; rows: string }>(
      'SELECT group_key, dominant, support, share, strong, rows FROM facts_evidence ORDER BY group_key',
    )
  ).map((f) => ({ ...f, support: Number(f.support), rows: Number(f.rows) }));
  return { result, reasons, facts };
}

/** The rows of a written profile object, read back from the store's file. */
async function profileRows(store: FileObjectStore, key: string) {
  return (
    await engine.rows<{ dependency: string; group_key: string; value: string; n: string }>(
      `SELECT dependency, group_key, value, n FROM read_parquet(${literal(join(store.root, key))}) ORDER BY ALL`,
    )
  ).map((r) => ({ ...r, n: Number(r.n) }));
}

/** An ISO stamp `i` minutes after a fixed start (what reconcile passes as asOf). */
const stampAt = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();

describe('stream profile', () => {
  it("makes a small batch's group strong with the stream's history, and flags only the row that disagrees", async () => {
    const { store, dir } = world();
    const contract = places();
    const small = [
      { zip: '35233', city: 'birmingham', visits: '1' },
      { zip: '35233', city: 'birminghxm', visits: '2' },
      ...rowsOf('36301', ['dothan']),
    ];

    // Alone: a 1-1 tie, one vote for the winner (below min_support 2): contested, never strong.
    await engine.run('DROP TABLE IF EXISTS history_votes');
    await load('batch', contract, small);
    const alone = await evidence(contract);
    expect(alone.facts).toEqual([{ group_key: '35233', dominant: 'birmingham', support: 1, share: 0.5, strong: false, rows: 2 }]);
    // Nothing acts on its own: the disagreeing row (and, in a tie, its rival) goes to a person.
    expect(alone.reasons.get(2)).toEqual(['city:dependency-contested']);
    expect(new Set([...alone.reasons.values()].flat())).toEqual(new Set(['city:dependency-contested']));

    // A previous batch promoted five `birmingham` rows for 35233 (and one other zip).
    await loadCurated('curated', [...rowsOf('35233', Array(5).fill('birmingham')), ...rowsOf('10001', ['new york', 'new york'])]);
    const key = await writeStreamProfile(
      store,
      engine,
      contract,
      { stream: STREAM, batch: 'places-previous', asOf: stampAt(0), dir: dir() },
      'curated',
    );
    expect(key).toBe('profiles/places/20240101T000000000Z--places-previous.parquet');
    expect(key).toBe(keys.streamProfile(STREAM, stampAt(0), 'places-previous'));
    expect(await store.list(keys.streamProfilePrefix(STREAM))).toEqual([key]);
    expect(await profileRows(store, key!)).toEqual([
      { dependency: 'zip->city', group_key: '10001', value: 'new york', n: 2 },
      { dependency: 'zip->city', group_key: '35233', value: 'birmingham', n: 5 },
    ]);

    expect(await loadStreamProfile(store, engine, places(), 'places-current', dir())).toBe(1);
    expect(await historyVotes()).toEqual([
      { dependency: 'zip->city', group_key: '10001', value: 'new york', n: 2 },
      { dependency: 'zip->city', group_key: '35233', value: 'birmingham', n: 5 },
    ]);
    await load('batch', contract, small);
    const judged = await evidence(contract);
    expect(judged.result).toEqual({ groups: 1, reasons: 1 });
    // 5 history votes + 1 of the batch against 1: support 6, share 6/7, strong; rows counts the batch's own.
    expect(judged.facts).toHaveLength(1);
    expect(judged.facts[0]).toMatchObject({ group_key: '35233', dominant: 'birmingham', support: 6, strong: true, rows: 2 });
    expect(judged.facts[0]!.share).toBeCloseTo(6 / 7, 10);
    expect([...judged.reasons]).toEqual([[2, ['city:dependency']]]);
    await engine.run('DROP TABLE IF EXISTS history_votes');
  });

  it("never loads the batch's own profile, and a replayed write writes the same key", async () => {
    const { store, dir } = world();
    const contract = places();
    await loadCurated('curated', rowsOf('35233', ['birmingham', 'birmingham', 'birmingham']));
    const target = { stream: STREAM, batch: 'places-b', asOf: stampAt(5), dir: dir() };
    const first = await writeStreamProfile(store, engine, contract, target, 'curated');
    expect(first).toBe(keys.streamProfile(STREAM, stampAt(5), 'places-b'));

    // A stale table from an earlier load must not survive: the load drops it first.
    await engine.run(
      "CREATE OR REPLACE TEMP TABLE history_votes AS SELECT 'zip->city' AS dependency, '1' AS group_key, 'x' AS value, 1 AS n",
    );
    expect(await loadStreamProfile(store, engine, places(), 'places-b', dir())).toBe(0);
    expect(await hasHistory()).toBe(false);

    // Without history the batch alone: one vote for each of two values, nothing strong.
    await load('batch', contract, [
      { zip: '35233', city: 'birmingham' },
      { zip: '35233', city: 'birminghxm' },
    ]);
    const alone = await evidence(contract);
    expect(alone.facts.map((f) => f.strong)).toEqual([false]);
    expect([...alone.reasons.values()].flat()).not.toContain('city:dependency');

    // Replayed (same batch, same once-only stamp, a different work dir): the same key, still one object.
    const replay = await writeStreamProfile(store, engine, contract, { ...target, dir: dir() }, 'curated');
    expect(replay).toBe(first);
    expect(await store.list(keys.streamProfilePrefix(STREAM))).toEqual([first]);
    expect(await profileRows(store, first!)).toEqual([{ dependency: 'zip->city', group_key: '35233', value: 'birmingham', n: 3 }]);

    // Another batch does read it.
    expect(await loadStreamProfile(store, engine, places(), 'places-c', dir())).toBe(1);
    expect(await historyVotes()).toEqual([{ dependency: 'zip->city', group_key: '35233', value: 'birmingham', n: 3 }]);
    await engine.run('DROP TABLE IF EXISTS history_votes');
  });

  it('reads only the latest PROFILE_BATCHES profiles, by as-of (not by batch id)', async () => {
    const { store, dir } = world();
    const contract = places();
    const total = PROFILE_BATCHES + 3;
    const written: string[] = [];
    for (let i = 0; i < total; i++) {
      // The oldest three say `oldtown`; every later one says `newtown`, with one row each.
      await loadCurated('curated', rowsOf('99999', [i < 3 ? 'oldtown' : 'newtown']));
      // Batch ids sort the other way round from their as-of.
      const batch = `places-${String(total - i).padStart(3, '0')}`;
      const key = await writeStreamProfile(store, engine, contract, { stream: STREAM, batch, asOf: stampAt(i), dir: dir() }, 'curated');
      written.push(key!);
    }
    expect(new Set(written).size).toBe(total);
    expect((await store.list(keys.streamProfilePrefix(STREAM))).length).toBe(total);

    expect(await loadStreamProfile(store, engine, places(), 'places-current', dir())).toBe(PROFILE_BATCHES);
    expect(await historyVotes()).toEqual([{ dependency: 'zip->city', group_key: '99999', value: 'newtown', n: PROFILE_BATCHES }]);

    // The newest batch reloading reads the PROFILE_BATCHES before it: one `oldtown` profile comes back in.
    const newest = `places-${String(1).padStart(3, '0')}`;
    expect(await loadStreamProfile(store, engine, places(), newest, dir())).toBe(PROFILE_BATCHES);
    expect(await historyVotes()).toEqual([
      { dependency: 'zip->city', group_key: '99999', value: 'newtown', n: PROFILE_BATCHES - 1 },
      { dependency: 'zip->city', group_key: '99999', value: 'oldtown', n: 1 },
    ]);
    await engine.run('DROP TABLE IF EXISTS history_votes');
  });

  it('keeps only dependencies over text-like columns, and writes nothing without one', async () => {
    const { store, dir } = world();
    const columns = [
      { name: 'zip', type: 'string' },
      { name: 'city', type: 'string', nullable: true },
      { name: 'opened', type: 'date', nullable: true },
    ];
    await engine.run(`CREATE OR REPLACE TEMP TABLE curated AS
      SELECT * FROM (VALUES (1, '35233', 'birmingham', DATE '2020-01-01'), (2, '35233', 'birmingham', DATE '2020-01-01'))
        v(row_id, zip, city, opened)`);
    const target = (batch: string) => ({ stream: STREAM, batch, asOf: stampAt(0), dir: dir() });

    const dated = contractOf(columns, [{ type: 'dependency', determinant: ['zip'], dependent: 'opened' }]);
    expect(await writeStreamProfile(store, engine, dated, target('places-dated'), 'curated')).toBeNull();
    const byDate = contractOf(columns, [{ type: 'dependency', determinant: ['opened'], dependent: 'city' }]);
    expect(await writeStreamProfile(store, engine, byDate, target('places-by-date'), 'curated')).toBeNull();
    const none = contractOf(columns, [{ type: 'unique', columns: ['zip'] }]);
    expect(await writeStreamProfile(store, engine, none, target('places-none'), 'curated')).toBeNull();
    expect(await store.list(keys.streamProfilePrefix(STREAM))).toEqual([]);

    // Mixed: the text-like dependency is kept, the date one left out.
    const mixed = contractOf(columns, [zipCity, { type: 'dependency', determinant: ['zip'], dependent: 'opened' }]);
    const key = await writeStreamProfile(store, engine, mixed, target('places-mixed'), 'curated');
    expect(key).not.toBeNull();
    expect(await profileRows(store, key!)).toEqual([{ dependency: 'zip->city', group_key: '35233', value: 'birmingham', n: 2 }]);
  });

  it('keeps at most PROFILE_GROUPS votes per dependency, the largest groups first', async () => {
    const { store, dir } = world();
    const contract = contractOf(
      [
        { name: 'zip', type: 'string' },
        { name: 'state', type: 'string' },
        { name: 'city', type: 'string' },
      ],
      [zipCity, { type: 'dependency', determinant: ['zip', 'state'], dependent: 'city' }],
    );
    const groups = PROFILE_GROUPS + 700;
    // One row per zip, except the ten highest zips, which carry three rows each (the largest groups).
    await engine.run(`CREATE OR REPLACE TEMP TABLE curated AS
      SELECT row_number() OVER () AS row_id, zip, 'AL' AS state, 'city-' || zip AS city FROM (
        SELECT lpad(CAST(i AS VARCHAR), 6, '0') AS zip FROM range(${groups}) t(i)
        UNION ALL
        SELECT lpad(CAST(i AS VARCHAR), 6, '0') AS zip FROM range(${groups - 10}, ${groups}) t(i), range(2) r(j))`);
    const [count] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM curated');
    expect(Number(count!.n)).toBe(groups + 20);

    const key = await writeStreamProfile(
      store,
      engine,
      contract,
      { stream: STREAM, batch: 'places-big', asOf: stampAt(0), dir: dir() },
      'curated',
    );
    const path = literal(join(store.root, key!));
    const perDependency = await engine.rows<{ dependency: string; n: string; big: string; groups: string }>(
      `SELECT dependency, count(*) AS n, count(*) FILTER (WHERE n = 3) AS big, count(DISTINCT group_key) AS groups
       FROM read_parquet(${path}) GROUP BY dependency ORDER BY dependency`,
    );
    expect(perDependency.map((r) => ({ dependency: r.dependency, n: Number(r.n), big: Number(r.big), groups: Number(r.groups) }))).toEqual([
      { dependency: 'zip+state->city', n: PROFILE_GROUPS, big: 10, groups: PROFILE_GROUPS },
      { dependency: 'zip->city', n: PROFILE_GROUPS, big: 10, groups: PROFILE_GROUPS },
    ]);
    // Every kept vote is a real one: the group's own city, with its real row count.
    const [wrong] = await engine.rows<{ n: string }>(
      `SELECT count(*) AS n FROM read_parquet(${path})
       WHERE value <> 'city-' || split_part(group_key, chr(31), 1) OR n NOT IN (1, 3)`,
    );
    expect(Number(wrong!.n)).toBe(0);

    // Loaded back, the history holds the same bounded votes.
    expect(await loadStreamProfile(store, engine, places(), 'places-next', dir())).toBe(1);
    const [loaded] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM history_votes');
    expect(Number(loaded!.n)).toBe(2 * PROFILE_GROUPS);
    await engine.run('DROP TABLE IF EXISTS history_votes');
  });
});
