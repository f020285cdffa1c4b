import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractSchema } from '../../lib/contract/contract.ts';
import { pkHashOf } from '../../lib/contract/pk-hash.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { literal } from '../../lib/engine/sql.ts';
import { buildLedger, checkLedger, ledgerFailed, type LaneFiles } from '../../lib/reconcile/row-ledger.ts';

/**
 * Law 4 in the row ledger: a fix is joined to its row by `row_id`, and must carry that row's
 * `pk_hash`. The lanes are hand-made Parquet files, read by a real engine.
 */
const contract = ContractSchema.parse({
  stream: 'ids',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
  ],
});
const hash = (id: string) => pkHashOf(contract, [id]);

let dir: string;
let engine: Engine;
let files = 0;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vm-ledger-'));
  engine = await Engine.open({ memoryLimit: '256MB', threads: 1, spillDir: join(dir, 'spill') });
});
afterAll(() => {
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One Parquet file holding the rows of `select`. */
async function parquet(select: string): Promise<string> {
  const path = join(dir, `lane-${files++}.parquet`);
  await engine.run(`COPY (${select}) TO ${literal(path)} (FORMAT parquet)`);
  return path;
}

type Fix = { row: number; pk: string; column?: string; value?: string };
const fixRows = (fixes: Fix[], columns: (f: Fix) => string) =>
  fixes.map((f) => `SELECT ${f.row}::BIGINT AS row_id, ${literal(f.pk)} AS pk_hash, ${columns(f)}`).join(' UNION ALL ');

/**
 * A batch of 4 rows: row 1 clean; rows 2 and 3 suspect (`amount` is `12.50 USD` and `N/A`, both
 * fixable); row 4 suspect. Each lane's objects are given as fixes; the suspect rows carry the
 * hash the ingest step gives their `id`.
 */
async function lanes(staged: Fix[], quarantined: Fix[] = [], audit: Fix[] = staged): Promise<LaneFiles> {
  const suspect = [
    ['2', '12.50 USD'],
    ['3', 'N/A'],
    ['4', '7.00 EUR'],
  ]
    .map(
      ([id, amount]) =>
        `SELECT ${id}::BIGINT AS row_id, ${literal(hash(id!))} AS pk_hash, ['amount:type'] AS reasons, ${literal(id!)} AS id, ${literal(amount!)} AS amount`,
    )
    .join(' UNION ALL ');
  return {
    clean: [await parquet(`SELECT 1::BIGINT AS row_id, 1::BIGINT AS id, 1.00::DECIMAL(18, 2) AS amount`)],
    suspect: [await parquet(suspect)],
    ingestQuarantine: [],
    staged: staged.length
      ? [
          await parquet(
            fixRows(staged, (f) => `'amount' AS column_name, NULL::VARCHAR AS old_value, ${literal(f.value ?? '1.00')} AS new_value`),
          ),
        ]
      : [],
    quarantinedCells: quarantined.length
      ? [await parquet(fixRows(quarantined, () => `'amount' AS column_name, 'x' AS value, 'needs-review' AS reason, 'c1' AS cluster`))]
      : [],
    auditParts: audit.length
      ? [await parquet(fixRows(audit, (f) => `'amount' AS "column", NULL::VARCHAR AS old, ${literal(f.value ?? '1.00')} AS new`))]
      : [],
  };
}

async function ledgerOf(files: LaneFiles) {
  await buildLedger(engine, contract, files);
  return checkLedger(engine, 4);
}

const fixes = (): Fix[] => [
  { row: 2, pk: hash('2') },
  { row: 3, pk: hash('3') },
];

describe('the row ledger checks each fix against its row identity', () => {
  it('passes when every fix and quarantined cell carries its row pk_hash', async () => {
    const check = await ledgerOf(await lanes(fixes(), [{ row: 4, pk: hash('4') }]));
    expect(check).toMatchObject({ counts: { source: 4, clean: 1, fixed: 2, quarantined: 1 }, mismatched: [], problems: { mismatched: 0 } });
    expect(ledgerFailed(check)).toBe(false);
  });

  it('catches a staged fix whose pk_hash is another row of the batch: the ledger fails, the fix is not applied', async () => {
    const staged = [
      { row: 2, pk: hash('3') },
      { row: 3, pk: hash('3') },
    ];
    const check = await ledgerOf(await lanes(staged, [{ row: 4, pk: hash('4') }], fixes()));
    expect(check).toMatchObject({ mismatched: [2], problems: { missing: 0, duplicated: 0, unexpected: 0, mismatched: 1 } });
    expect(ledgerFailed(check)).toBe(true);
    // Row 2 kept its failing value: it is quarantined, never fixed with another record's fix.
    expect(await engine.rows('SELECT row_id::INTEGER AS row_id, lane FROM ledger WHERE row_id = 2')).toEqual([
      { row_id: 2, lane: 'quarantined' },
    ]);
  });

  it('catches a quarantined cell whose pk_hash differs from its row', async () => {
    const check = await ledgerOf(await lanes(fixes(), [{ row: 4, pk: hash('40') }]));
    expect(check).toMatchObject({ mismatched: [4], problems: { mismatched: 1 } });
    expect(ledgerFailed(check)).toBe(true);
  });

  it('catches an audit change sealed under another record, and a fix naming a row that is not suspect', async () => {
    const staged = [...fixes(), { row: 1, pk: hash('1') }];
    const audit = [
      { row: 2, pk: hash('2') },
      { row: 3, pk: hash('33') },
    ];
    const check = await ledgerOf(await lanes(staged, [{ row: 4, pk: hash('4') }], audit));
    expect(check).toMatchObject({ mismatched: [1, 3], problems: { mismatched: 2 } });
  });
});
