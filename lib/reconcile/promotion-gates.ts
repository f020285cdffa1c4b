import { primaryKey, type Column, type Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal, literalList } from '../engine/sql.ts';

/**
 * Promotion gates: the contract's dbt-style tests compiled to SQL and run on the batch's
 * curated rows (table `curated`: clean + fixed, typed) before anything is promoted. Each gate
 * is a query for the rows that break it; a gate passes when there are none. The primary key
 * (not null, unique) and the row count (curated + quarantined = source) are always gates.
 */
export interface GateResult {
  gate: string;
  passed: boolean;
  failing_rows: number;
  /** Up to 10 row ids that break it (row ids, not values: reports carry no data). */
  sample_row_ids: number[];
  detail?: string;
}

interface Gate {
  gate: string;
  /** Rows (with row_id) that break it. */
  failing: string;
}

function bound(column: Column, value: number | string): string {
  if (column.type === 'date') return `CAST(${literal(String(value))} AS DATE)`;
  if (column.type === 'timestamp') return `CAST(${literal(String(value))} AS TIMESTAMPTZ)`;
  if (column.type === 'integer' || column.type === 'decimal') return String(Number(value));
  return literal(String(value));
}

export function compileGates(contract: Contract): Gate[] {
  const byName = new Map(contract.columns.map((c) => [c.name.toLowerCase(), c]));
  const gates: Gate[] = [];
  const pk = primaryKey(contract);
  for (const column of pk)
    gates.push({ gate: `not_null:${column.name}`, failing: `SELECT row_id FROM curated WHERE ${ident(column.name)} IS NULL` });
  const uniques = new Map<string, string[]>();
  if (pk.length)
    uniques.set(
      pk.map((c) => c.name).join('+'),
      pk.map((c) => c.name),
    );
  for (const test of contract.tests) {
    switch (test.type) {
      case 'not_null':
        gates.push({
          gate: `not_null:${test.column}`,
          failing: `SELECT row_id FROM curated WHERE ${ident(byName.get(test.column.toLowerCase())!.name)} IS NULL`,
        });
        break;
      case 'unique':
        uniques.set(
          test.columns.join('+'),
          test.columns.map((c) => byName.get(c.toLowerCase())!.name),
        );
        break;
      case 'accepted_values': {
        const name = ident(byName.get(test.column.toLowerCase())!.name);
        gates.push({
          gate: `accepted_values:${test.column}`,
          failing: `SELECT row_id FROM curated WHERE ${name} IS NOT NULL AND CAST(${name} AS VARCHAR) NOT IN (${literalList(test.values)})`,
        });
        break;
      }
      case 'range': {
        const column = byName.get(test.column.toLowerCase())!;
        const parts = [
          test.min !== undefined ? `${ident(column.name)} < ${bound(column, test.min)}` : undefined,
          test.max !== undefined ? `${ident(column.name)} > ${bound(column, test.max)}` : undefined,
        ].filter(Boolean);
        if (parts.length)
          gates.push({ gate: `range:${test.column}`, failing: `SELECT row_id FROM curated WHERE (${parts.join(' OR ')}) IS TRUE` });
        break;
      }
      case 'expression':
        gates.push({ gate: `expression:${test.name}`, failing: `SELECT row_id FROM curated WHERE (${test.expression}) IS FALSE` });
        break;
    }
  }
  for (const [name, columns] of uniques) {
    const cols = columns.map(ident).join(', ');
    gates.push({
      gate: `unique:${name}`,
      failing: `SELECT row_id FROM curated JOIN (SELECT ${cols} FROM curated WHERE ${columns.map((c) => `${ident(c)} IS NOT NULL`).join(' AND ')} GROUP BY ALL HAVING count(*) > 1) d USING (${cols})`,
    });
  }
  return gates;
}

export async function runGates(
  engine: Engine,
  contract: Contract,
  expected: { source: number; quarantined: number },
): Promise<GateResult[]> {
  const results: GateResult[] = [];
  for (const gate of compileGates(contract)) {
    const [counted] = await engine.rows<{ n: string }>(`SELECT count(*) AS n FROM (${gate.failing})`);
    const n = Number(counted?.n ?? 0);
    const sample = n
      ? (await engine.rows<{ row_id: string }>(`SELECT row_id FROM (${gate.failing}) ORDER BY row_id LIMIT 10`)).map((r) =>
          Number(r.row_id),
        )
      : [];
    results.push({ gate: gate.gate, passed: n === 0, failing_rows: n, sample_row_ids: sample });
  }
  const [curated] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM curated');
  const rows = Number(curated?.n ?? 0);
  const balanced = rows + expected.quarantined === expected.source;
  results.push({
    gate: 'row_count',
    passed: balanced,
    failing_rows: balanced ? 0 : Math.abs(expected.source - rows - expected.quarantined),
    sample_row_ids: [],
    detail: `curated ${rows} + quarantined ${expected.quarantined} ${balanced ? '=' : '!='} source ${expected.source}`,
  });
  return results;
}
