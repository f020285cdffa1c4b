import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainLines, genesis, sha256, verifyChain } from '../../lib/audit/audit-chain.ts';
import type { DataKeyStore } from '../../lib/audit/data-keys.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { mapBounded } from '../../lib/audit/map-bounded.ts';
import { open, seal, type SealedValue } from '../../lib/audit/pii-cipher.ts';
import { ContractSchema } from '../../lib/contract/contract.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { literal } from '../../lib/engine/sql.ts';
import { auditLines } from '../../lib/reconcile/audit-entries.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { ENGINE } from '../support/local-batch.ts';

/**
 * The audit lines built as set work in the engine, against the line format as JavaScript writes it
 * (`JSON.stringify` of `{seq, stream, batch, ...entry, prev}`: the format every stored audit has):
 * the same bytes, the same chain and root; pii sealed per record and opening with its key.
 */
const CONTRACT = ContractSchema.parse({
  stream: 'lines',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'note', type: 'string' },
    { name: 'email', type: 'email', pii: true },
    { name: 'amount', type: 'decimal' },
  ],
});
const STREAM = 'lines';
const BATCH = 'lines-0123456789abcdef0123';
const AS_OF = '2026-11-23T13:00:00.000Z';
const STAMP = '2026-11-23T12:00:00.123Z';
const record = (n: number) => sha256(`record ${n}`);

/** One changed cell of an audit part, as remediate writes it. */
interface Cell {
  row: number;
  column: string;
  old: string | null;
  new: string | null;
  confidence: number;
  cluster: string;
  model?: string;
  operator?: string | null;
}

const CELLS: Cell[] = [
  // Row 10 after row 9 (numbers, not text); columns of a row in code-point order.
  { row: 10, column: 'note', old: 'a "quoted" \\ back\nslash\ttab', new: 'fixed', confidence: 1, cluster: 'c-1' },
  { row: 10, column: 'amount', old: '12.50 USD', new: '12.50', confidence: 0.95, cluster: 'c-2' },
  // A leading U+FEFF is part of the value (the engine client's text decoder would drop it).
  { row: 9, column: 'email', old: '\ufeff<ada@example.org>', new: 'ada@example.org', confidence: 0.1 + 0.2, cluster: 'c-1' },
  { row: 9, column: 'note', old: 'é€😀 \u2028 </script>', new: null, confidence: 1e-7, cluster: 'c-3', model: 'qwen', operator: 'ada' },
  { row: 2, column: 'email', old: null, new: 'bo@example.org', confidence: 0.75, cluster: 'c-4', operator: '' },
  // The same cell fixed alike by two clusters: one change, the first cluster's.
  { row: 2, column: 'amount', old: '1 USD', new: '1.00', confidence: 0.8, cluster: 'c-6' },
  { row: 2, column: 'amount', old: '1 USD', new: '1.00', confidence: 0.9, cluster: 'c-5' },
  // Row 4 is quarantined, row 5 clean: their cells are in no line.
  { row: 4, column: 'note', old: 'x', new: 'y', confidence: 1, cluster: 'c-1' },
  { row: 5, column: 'note', old: 'x', new: 'y', confidence: 1, cluster: 'c-1' },
];
const LANES: [number, string][] = [
  [2, 'fixed'],
  [4, 'quarantined'],
  [5, 'clean'],
  [7, 'quarantined'],
  [9, 'fixed'],
  [10, 'fixed'],
];
const REASONS: [number, string, string | null][] = [
  [7, 'type:amount', 'c-9'],
  [7, 'not_null:note', 'c-8'],
  [7, 'type:amount', null],
  [4, 'still-fails-after-fix', null],
];

let engine: Engine;
let dir: string;
const dataKeys = new Map<string, Buffer>();
/** Data keys in memory, reported as they come (as the vault's key store does). */
const keyStore: DataKeyStore = {
  async keysFor(_stream, records, onKey) {
    const out = new Map<string, Buffer>();
    for (const r of new Set(records)) {
      if (!dataKeys.has(r)) dataKeys.set(r, randomBytes(32));
      out.set(r, dataKeys.get(r)!);
      onKey?.(r, dataKeys.get(r)!);
    }
    return out;
  },
  existing: async (_stream, r) => dataKeys.get(r),
  destroy: async (_stream, r) => dataKeys.delete(r),
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vm-audit-lines-'));
  engine = await Engine.open({ ...ENGINE, spillDir: join(dir, 'spill') });
  const text = (v: string | null | undefined) => (v === null || v === undefined ? 'NULL::VARCHAR' : literal(v));
  const part = CELLS.map(
    (c) =>
      `SELECT ${c.row}::BIGINT AS row_id, ${literal(record(c.row))} AS pk_hash, ${literal(c.column)} AS "column", ${text(c.old)} AS old,
        ${text(c.new)} AS new, 'x => x.trim()' AS function, 'trim' AS function_name, 'synthesizer' AS tier, ${c.confidence}::DOUBLE AS confidence,
        ${text(c.model)} AS model, ${c.model ? literal('sha256:abc') : 'NULL::VARCHAR'} AS model_version,
        ${literal(STAMP)}::TIMESTAMPTZ AS timestamp, ${literal(c.cluster)} AS cluster, ${text(c.operator)} AS operator`,
  );
  await engine.run(`COPY (${part.join(' UNION ALL ')}) TO ${literal(join(dir, 'audit.parquet'))} (FORMAT parquet)`);
  await engine.run(
    `CREATE TABLE ledger AS SELECT * FROM (VALUES ${LANES.map(([r, l]) => `(${r}::BIGINT, ${literal(l)})`).join(', ')}) v(row_id, lane)`,
  );
  await engine.run(
    `CREATE TABLE quarantine_reasons AS SELECT * FROM (VALUES ${REASONS.map(
      ([r, reason, cluster]) => `(${r}::BIGINT, ${literal(record(r))}, ${literal(reason)}, ${text(cluster)})`,
    ).join(', ')}) v(row_id, pk_hash, reason, cluster)`,
  );
});
afterAll(() => {
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The expected audit text, written line by line the way the audit format was first defined. */
function reference(start = genesis(STREAM, BATCH)): string {
  const fixed = new Set(LANES.filter(([, l]) => l === 'fixed').map(([r]) => r));
  const byCell = new Map<string, Cell>();
  for (const c of [...CELLS].sort((a, b) => (a.cluster < b.cluster ? -1 : 1)))
    if (fixed.has(c.row) && !byCell.has(`${c.row}|${c.column}`)) byCell.set(`${c.row}|${c.column}`, c);
  const entries: { order: [number, number, string]; entry: Record<string, unknown> }[] = [];
  for (const c of byCell.values()) {
    const pii = c.column === 'email';
    const sealed = (side: 'old' | 'new') =>
      pii ? seal(dataKeys.get(record(c.row))!, record(c.row), `${BATCH}|${c.row}|${c.column}|${side}`, c[side]) : c[side];
    entries.push({
      order: [c.row, 0, c.column],
      entry: {
        kind: 'cell-changed',
        row_id: c.row,
        pk_hash: record(c.row),
        column: c.column,
        old: sealed('old'),
        new: sealed('new'),
        function: 'x => x.trim()',
        function_name: 'trim',
        tier: 'synthesizer',
        confidence: c.confidence,
        model: c.model ?? null,
        model_version: c.model ? 'sha256:abc' : null,
        timestamp: STAMP,
        reason: null,
        cluster: c.cluster,
        ...(c.operator ? { operator: c.operator } : {}),
      },
    });
  }
  for (const row of new Set(REASONS.map(([r]) => r))) {
    const mine = REASONS.filter(([r]) => r === row);
    entries.push({
      order: [row, 1, ''],
      entry: {
        kind: 'row-quarantined',
        row_id: row,
        pk_hash: record(row),
        column: null,
        old: null,
        new: null,
        function: null,
        function_name: null,
        tier: null,
        confidence: null,
        model: null,
        model_version: null,
        timestamp: AS_OF,
        reason: [...new Set(mine.map(([, reason]) => reason))].sort().join(','),
        cluster:
          mine
            .map(([, , c]) => c)
            .filter((c) => c !== null)
            .sort()[0] ?? null,
      },
    });
  }
  entries.sort(
    (a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1] || (a.order[2] < b.order[2] ? -1 : a.order[2] > b.order[2] ? 1 : 0),
  );
  let prev = start;
  return entries
    .map(({ entry }, i) => {
      const line = JSON.stringify({ seq: i + 1, stream: STREAM, batch: BATCH, ...entry, prev });
      prev = sha256(line);
      return `${line}\n`;
    })
    .join('');
}

describe('audit lines built in the engine', () => {
  it('are byte for byte the lines JSON.stringify writes: members, order, escaping, numbers, operator, pii sealed', async () => {
    const built = await auditLines(engine, CONTRACT, {
      stream: STREAM,
      batch: BATCH,
      asOf: AS_OF,
      auditParts: [join(dir, 'audit.parquet')],
      keys: keyStore,
    });
    const chained = chainLines(STREAM, BATCH, built.bodies);
    expect(chained.text).toBe(reference());
    expect(chained.lines).toBe(8);
    expect(verifyChain(STREAM, BATCH, chained.text, chained.root)).toMatchObject({ ok: true, lines: 8 });
    const lines = chained.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.row_id, l.kind, l.column])).toEqual([
      [2, 'cell-changed', 'amount'],
      [2, 'cell-changed', 'email'],
      [4, 'row-quarantined', null],
      [7, 'row-quarantined', null],
      [9, 'cell-changed', 'email'],
      [9, 'cell-changed', 'note'],
      [10, 'cell-changed', 'amount'],
      [10, 'cell-changed', 'note'],
    ]);
    // The pii values open with their record's key, and nowhere is the plain value.
    const ada = lines.find((l) => l.row_id === 9 && l.column === 'email');
    expect(open(dataKeys.get(record(9))!, `${BATCH}|9|email|old`, ada.old as SealedValue)).toBe('\ufeff<ada@example.org>');
    expect(chained.text).not.toContain('ada@example.org');
    expect(built.timings_ms).toHaveProperty('keys_and_drafts');
  });

  it('chain a revision from the root it is given, and write the same bytes again', async () => {
    const context = { stream: STREAM, batch: BATCH, asOf: AS_OF, auditParts: [join(dir, 'audit.parquet')], keys: keyStore };
    const start = sha256('an earlier audit object');
    const first = chainLines(STREAM, BATCH, (await auditLines(engine, CONTRACT, context)).bodies, start);
    const again = chainLines(STREAM, BATCH, (await auditLines(engine, CONTRACT, context)).bodies, start);
    expect(first.text).toBe(reference(start));
    expect(again).toEqual(first);
    expect(verifyChain(STREAM, BATCH, first.text, first.root, start).ok).toBe(true);
    expect(verifyChain(STREAM, BATCH, first.text, first.root).ok).toBe(false);
  });

  it('escape control characters as JSON.stringify does, byte for byte, and write no line without parts', async () => {
    const codes = [1, 11, 14, 15, 26, 27, 28, 29, 30, 31, 127];
    const weird = `a${codes.map((c) => String.fromCharCode(c)).join('b')}e`;
    const weirdSql = `'a' || ${codes.map((c) => `chr(${c})`).join(" || 'b' || ")} || 'e'`;
    await engine.run(
      `COPY (SELECT 3::BIGINT AS row_id, ${literal(record(3))} AS pk_hash, 'note' AS "column", ${weirdSql} AS old, 'ok' AS new,
        'x => x' AS function, 'id' AS function_name, 'synthesizer' AS tier, 1::DOUBLE AS confidence, NULL::VARCHAR AS model,
        NULL::VARCHAR AS model_version, ${literal(STAMP)}::TIMESTAMPTZ AS timestamp, 'c-1' AS cluster) TO ${literal(join(dir, 'weird.parquet'))} (FORMAT parquet)`,
    );
    await engine.run(`INSERT INTO ledger VALUES (3, 'fixed')`);
    try {
      const built = await auditLines(engine, CONTRACT, {
        stream: STREAM,
        batch: BATCH,
        asOf: AS_OF,
        auditParts: [join(dir, 'weird.parquet')],
        keys: keyStore,
      });
      const text = chainLines(STREAM, BATCH, built.bodies).text.split('\n')[0]!;
      expect(text).toContain(`"old":${JSON.stringify(weird)},`);
      const line = JSON.parse(text);
      expect(line).toMatchObject({ row_id: 3, column: 'note', old: weird, new: 'ok' });
      expect(line).not.toHaveProperty('operator');
      const none = await auditLines(engine, CONTRACT, { stream: STREAM, batch: BATCH, asOf: AS_OF, auditParts: [], keys: keyStore });
      expect(none.bodies.map((b) => JSON.parse(`${b.slice(0, -1)},"prev":""}`).kind)).toEqual(['row-quarantined', 'row-quarantined']);
    } finally {
      await engine.run('DELETE FROM ledger WHERE row_id = 3');
    }
  });

  it('chainLines refuses a body that is not a prepared line', () => {
    expect(() => chainLines(STREAM, BATCH, ['{"seq":1}', 'not json'])).toThrow(/line 2/);
    expect(chainLines(STREAM, BATCH, [])).toEqual({ text: '', lines: 0, root: genesis(STREAM, BATCH) });
  });
});

describe('the audit helpers', () => {
  it('mapBounded keeps the order, never has more than its limit out, and starts nothing after a failure', async () => {
    let out = 0;
    let most = 0;
    const results = await mapBounded(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      async (i) => {
        most = Math.max(most, ++out);
        await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
        out--;
        return i * 2;
      },
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(most).toBe(4);
    const started: number[] = [];
    await expect(
      mapBounded([0, 1, 2, 3, 4, 5, 6, 7], 2, async (i) => {
        started.push(i);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (i === 1) throw new Error('boom');
        return i;
      }),
    ).rejects.toThrow('boom');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started.length).toBeLessThanOrEqual(3);
  });

  it('seal derives a key once and seals alike; a key changed in place derives anew', () => {
    const key = randomBytes(32);
    const first = seal(key, record(1), 'b|1|email|old', 'ada');
    expect(seal(Buffer.from(key), record(1), 'b|1|email|old', 'ada')).toEqual(first);
    expect(seal(key, record(1), 'b|1|email|old', 'ada')).toEqual(first);
    const other = randomBytes(32);
    other.copy(key);
    const resealed = seal(key, record(1), 'b|1|email|old', 'ada');
    expect(resealed).toEqual(seal(Buffer.from(other), record(1), 'b|1|email|old', 'ada'));
    expect(resealed).not.toEqual(first);
    expect(open(other, 'b|1|email|old', resealed)).toBe('ada');
  });

  it("the vault's key store reports each record's final key once, as it comes, existing and new alike", async () => {
    const root = mkdtempSync(join(tmpdir(), 'vm-keys-'));
    try {
      const store = new VaultKeyStore(new FileObjectStore(root));
      const old = [record(1), record(2)];
      const before = await store.keysFor('s', old);
      const seen: [string, Buffer][] = [];
      const records = [record(1), record(3), record(2), record(3), record(4)];
      const keys = await store.keysFor('s', records, (r, k) => seen.push([r, k]));
      expect(seen.map(([r]) => r).sort()).toEqual([record(1), record(2), record(3), record(4)].sort());
      for (const [r, k] of seen) expect(k.equals(keys.get(r)!)).toBe(true);
      expect(keys.get(record(1))!.equals(before.get(record(1))!)).toBe(true);
      expect((await store.existing('s', record(4)))!.equals(keys.get(record(4))!)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads a first-writer-wins key at its first version, and a key from before (no mark) at its latest', async () => {
    const k = (n: number) => Buffer.alloc(32, n).toString('base64');
    // Two versions of each key, oldest first, as a versioned store lists them.
    const stored: Record<string, string[]> = {
      [`keystore/s/${record(1)}.key`]: [`fw1:${k(1)}`, `fw1:${k(2)}`],
      [`keystore/s/${record(2)}.key`]: [k(3), k(4)],
    };
    const versioned = {
      exists: async (key: string) => key in stored,
      versions: async (key: string) => (stored[key] ?? []).map((_, i) => ({ versionId: String(i), modifiedAt: new Date(i) })),
      readText: async (key: string, versionId?: string) => stored[key]![Number(versionId ?? stored[key]!.length - 1)]!,
    } as unknown as ConstructorParameters<typeof VaultKeyStore>[0];
    const store = new VaultKeyStore(versioned);
    expect((await store.existing('s', record(1)))!.equals(Buffer.alloc(32, 1))).toBe(true);
    expect((await store.existing('s', record(2)))!.equals(Buffer.alloc(32, 4))).toBe(true);
  });

  it('two invocations making the same new records’ keys at once get the same keys (first writer wins); a destroyed key is gone', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vm-keys-race-'));
    try {
      const records = Array.from({ length: 40 }, (_, i) => record(100 + i));
      // The second invocation's writes land late: after the first has sealed with its keys.
      class SlowWrites extends FileObjectStore {
        override async put(...args: Parameters<FileObjectStore['put']>) {
          await new Promise((r) => setTimeout(r, 400));
          return super.put(...args);
        }
        override async putIfAbsent(...args: Parameters<FileObjectStore['putIfAbsent']>) {
          await new Promise((r) => setTimeout(r, 400));
          return super.putIfAbsent(...args);
        }
      }
      const [a, b] = await Promise.all([
        new VaultKeyStore(new FileObjectStore(root)).keysFor('s', records),
        new VaultKeyStore(new SlowWrites(root)).keysFor('s', [...records].reverse()),
      ]);
      for (const r of records) expect(a.get(r)!.equals(b.get(r)!)).toBe(true);
      const store = new VaultKeyStore(new FileObjectStore(root));
      expect(await store.destroy('s', records[0]!)).toBe(true);
      expect(await store.existing('s', records[0]!)).toBeUndefined();
      expect((await store.keysFor('s', [records[0]!])).get(records[0]!)!.equals(a.get(records[0]!)!)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
