import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { shapeSignatureSql } from './shape-signature.ts';

/**
 * The failing cells of a batch, in table `cells`: one row per (suspect row, reason) with the
 * row's `row_id` and `pk_hash` (so a cell is never mistaken for another row's, however alike
 * their values), the column and rule from the reason code `<column>:<rule>`, the value as it
 * arrived and its shape. Reasons about a whole row (`row:expression:<name>`) or several
 * columns (`a+b:unique`) have no single value: theirs is NULL. The cells of one column's dependency
 * evidence and of its domain outliers share one shape (`dependency`, `dependency-contested`,
 * `domain`), so each is one cluster however many rows it touches; a cell with strong evidence (or
 * else a domain outlier) belongs to that cluster only. Built in one set operation.
 */
export async function loadCells(engine: Engine, suspectFiles: readonly string[], columns: readonly string[]): Promise<void> {
  const files = `[${suspectFiles.map(literal).join(', ')}]`;
  // Inner names start with `$`, which a contract's column names cannot: no clash with them.
  const cellValue = columns.length
    ? `CASE "$column" ${columns.map((c) => `WHEN ${literal(c)} THEN ${ident(c)}`).join(' ')} END`
    : 'NULL::VARCHAR';
  await engine.run(`CREATE OR REPLACE TABLE cells AS
    SELECT row_id, pk_hash, column_name, rule, value,
      CASE WHEN rule IN ('dependency', 'dependency-contested', 'domain') THEN rule ELSE ${shapeSignatureSql('value')} END AS shape
    FROM (
      SELECT row_id, pk_hash, "$column" AS column_name, "$rule" AS rule, ${cellValue} AS value
      FROM (
        SELECT *, split_part("$reason", ':', 1) AS "$column", substr("$reason", strpos("$reason", ':') + 1) AS "$rule"
        FROM (SELECT *, unnest(reasons) AS "$reason" FROM read_parquet(${files}))
      )
      -- A cell the evidence settles is that cluster's alone (a dependency before a domain).
      WHERE CASE
        WHEN list_contains(reasons, "$column" || ':dependency') THEN "$rule" = 'dependency'
        WHEN list_contains(reasons, "$column" || ':domain') THEN "$rule" = 'domain'
        ELSE true END
    )
    ORDER BY row_id, column_name, rule`);
}
