import type { Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { reasonList, rowRules, withTypedColumns } from '../contract/rules-sql.ts';

/**
 * Checks a function's outputs against the column contract with the very rules the bouncer
 * runs at ingest, in the engine, all outputs at once. Each output row holds the text of every
 * column the function writes; the answer is, per row, the rule codes it still breaks.
 */
export async function failingRules(
  engine: Engine,
  contract: Contract,
  columns: string[],
  outputs: readonly (readonly (string | null)[])[],
): Promise<string[][]> {
  if (outputs.length === 0) return [];
  const wanted = new Set(columns.map((c) => c.toLowerCase()));
  // The contract narrowed to the written columns (and the tests about them alone).
  const narrowed: Contract = {
    ...contract,
    columns: contract.columns.filter((c) => wanted.has(c.name.toLowerCase())),
    tests: contract.tests.filter(
      (t) => (t.type === 'not_null' || t.type === 'accepted_values' || t.type === 'range') && wanted.has(t.column.toLowerCase()),
    ),
  };
  const names = narrowed.columns.map((c) => c.name);
  const order = columns.map((c) => names.findIndex((n) => n.toLowerCase() === c.toLowerCase()));
  await engine.loadTextTable(
    '$outputs',
    names,
    outputs.map((row) => names.map((_, i) => row[order.indexOf(i)] ?? null)),
  );
  const rules = rowRules(narrowed);
  const rows = await engine.rows<{ k: number; reasons: string[] }>(
    `SELECT "$k" AS k, ${reasonList(rules)} AS reasons FROM (${withTypedColumns(narrowed, 'SELECT * FROM "$outputs"')}) ORDER BY "$k"`,
  );
  return rows.map((r) => r.reasons);
}
