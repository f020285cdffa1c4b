import { join } from 'node:path';
import type { Column, Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { downloadObject } from '../store/download.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { DistinctInput, PatternInputs } from './measure.ts';
import { groupKeySql } from '../evidence/dependency-evidence.ts';
import { keys } from '../keys.ts';
import { readObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';

/**
 * A cluster's cells in the engine (table `cells`: row_id, pk_hash, value, ...) and, loaded
 * only when a row-level candidate asks, the text of their rows (table `cluster_rows`, from
 * the batch's suspect outputs). Candidates are measured on distinct inputs, counted here.
 */
/** A cluster's dependency evidence as one lookup table, with the figures that back it (see dependencyLookup). */
export interface DependencyLookup {
  rules: string[];
  /** The determinant columns the table is keyed by, in key order. */
  determinant: string[];
  lookup: Record<string, string>;
  groups: number;
  contested_groups: number;
  /** Cells whose key has an entry. */
  cells: number;
  min_share: number;
  /** Share of the winning values' votes, mean over the cells covered. */
  mean_share: number;
  min_support: number;
  min_margin: number;
}

/** A cluster's domain outliers as one lookup table (outlier -> nearest frequent value), with its weakest share. */
export interface DomainLookup {
  lookup: Record<string, string>;
  values: number;
  cells: number;
  min_share: number;
  mean_share: number;
}

export class PatternTable implements PatternInputs {
  private rowsLoaded = false;

  private constructor(
    private readonly engine: Engine,
    private readonly store: ObjectStore,
    private readonly dir: string,
    private readonly batch: string,
    private readonly contract: Contract,
    readonly column: Column,
  ) {}

  static async load(
    engine: Engine,
    store: ObjectStore,
    dir: string,
    batch: string,
    contract: Contract,
    column: Column,
    cellsKey: string,
  ): Promise<PatternTable> {
    const local = await downloadObject(store, cellsKey, undefined, join(dir, 'cells.parquet'));
    await engine.run(`CREATE OR REPLACE TABLE cells AS SELECT * FROM read_parquet(${literal(local.path)}) ORDER BY row_id`);
    return new PatternTable(engine, store, dir, batch, contract, column);
  }

  /** The rows of the cluster's cells, every contract column as text. */
  async loadRows(): Promise<void> {
    if (this.rowsLoaded) return;
    const manifest = await readObject(this.store, vaultObjects.ingestManifest.at(this.batch));
    const paths = await Promise.all(
      manifest.outputs.suspect.map(
        async (key, i) => (await downloadObject(this.store, key, undefined, join(this.dir, `suspect-${i}.parquet`))).path,
      ),
    );
    const columns = this.contract.columns.map((c) => `s.${ident(c.name)}`).join(', ');
    await this.engine.run(`CREATE OR REPLACE TABLE cluster_rows AS
      SELECT s.row_id, ${columns} FROM read_parquet([${paths.map(literal).join(', ')}]) s SEMI JOIN cells USING (row_id)`);
    this.rowsLoaded = true;
  }

  /**
   * The strong evidence of `rules` (dependencies of this column) for the cluster's cells: the lookup
   * table from each cell's determinant values to the value its groups agree on, and what backs it.
   * A key whose dependencies name different values is contested: it gets no entry. Undefined when
   * the batch has no evidence.
   */
  async dependencyLookup(): Promise<DependencyLookup | undefined> {
    const local = await this.factsFile('facts_evidence');
    if (!local) return undefined;
    // The rules are the evidence's own (declared, or discovered and allowed to act): `a+b->c`.
    const ids = await this.engine.rows<{ dependency: string }>(
      `SELECT DISTINCT dependency FROM read_parquet(${literal(local)}) WHERE dependent = ${literal(this.column.name)} ORDER BY dependency`,
    );
    const rules = ids.map((r) => ({ id: r.dependency, determinant: r.dependency.split('->')[0]!.split('+') }));
    if (rules.length === 0) return undefined;
    await this.loadRows();
    const determinant = [...new Set(rules.flatMap((r) => r.determinant))];
    const perRule = rules.map(
      (r, i) => `SELECT k.lookup_key, k.cells, e.dominant, e.share, e.support, e.margin
        FROM keyed k JOIN evidence e ON e.dependency = ${literal(r.id)} AND e.group_key = k.${ident(`g${i}`)}`,
    );
    const rows = await this.engine.rows<{
      lookup_key: string;
      value: string;
      values: string;
      share: number;
      support: string;
      margin: number;
      cells: string;
    }>(`
      WITH evidence AS (
        SELECT * FROM read_parquet(${literal(local)}) WHERE strong AND dependent = ${literal(this.column.name)}),
      keyed AS (
        SELECT ${groupKeySql(this.contract, determinant)} AS lookup_key,
          ${rules.map((r, i) => `any_value(${groupKeySql(this.contract, r.determinant)}) AS ${ident(`g${i}`)}`).join(', ')},
          count(*) AS cells
        FROM cluster_rows r SEMI JOIN cells USING (row_id) GROUP BY 1),
      matched AS (${perRule.join(' UNION ALL ')})
      SELECT lookup_key, min(dominant) AS value, count(DISTINCT dominant) AS values, min(share) AS share,
        min(support) AS support, min(margin) AS margin, any_value(cells) AS cells
      FROM matched WHERE lookup_key IS NOT NULL GROUP BY lookup_key ORDER BY lookup_key`);
    const agreed = rows.filter((r) => Number(r.values) === 1);
    const cells = agreed.reduce((n, r) => n + Number(r.cells), 0);
    return {
      rules: rules.map((r) => r.id),
      determinant,
      lookup: Object.fromEntries(agreed.map((r) => [r.lookup_key, r.value])),
      groups: agreed.length,
      contested_groups: rows.length - agreed.length,
      cells,
      min_share: agreed.length ? Math.min(...agreed.map((r) => Number(r.share))) : 0,
      mean_share: cells ? agreed.reduce((n, r) => n + Number(r.share) * Number(r.cells), 0) / cells : 0,
      min_support: agreed.length ? Math.min(...agreed.map((r) => Number(r.support))) : 0,
      min_margin: agreed.length ? Math.min(...agreed.map((r) => Number(r.margin))) : 0,
    };
  }

  /**
   * The domain outliers among the cluster's values: the lookup table from each outlier to the one
   * frequent value it is an edit away from, with the weakest share (`nearest_rows` over both).
   */
  async domainLookup(): Promise<DomainLookup | undefined> {
    const local = await this.factsFile('facts_domains');
    if (!local) return undefined;
    const rows = await this.engine.rows<{ value: string; nearest: string; share: number; cells: string }>(`
      SELECT f.value, f.nearest, f.nearest_rows / (f.nearest_rows + f.value_rows) AS share, count(*) AS cells
      FROM read_parquet(${literal(local)}) f JOIN cells c ON c.value = f.value
      WHERE f.column_name = ${literal(this.column.name)} GROUP BY ALL ORDER BY f.value`);
    const cells = rows.reduce((n, r) => n + Number(r.cells), 0);
    return {
      lookup: Object.fromEntries(rows.map((r) => [r.value, r.nearest])),
      values: rows.length,
      cells,
      min_share: rows.length ? Math.min(...rows.map((r) => Number(r.share))) : 0,
      mean_share: cells ? rows.reduce((n, r) => n + Number(r.share) * Number(r.cells), 0) / cells : 0,
    };
  }

  /** The local copy of one of the batch's facts tables, or undefined when the batch has none. */
  private async factsFile(fact: 'facts_evidence' | 'facts_domains'): Promise<string | undefined> {
    const key = keys.batchFacts(this.batch, fact);
    if (!(await this.store.exists(key))) return undefined;
    return (await downloadObject(this.store, key, undefined, join(this.dir, `${fact}.parquet`))).path;
  }

  /** SQL for the cells joined with the columns in `reads` (as `r0`, `r1`, ...). */
  async joined(reads: string[]): Promise<string> {
    if (reads.length === 0) return 'SELECT c.*, c.value AS "$value" FROM cells c';
    await this.loadRows();
    const picked = reads.map((name, i) => `r.${ident(name)} AS ${ident(`r${i}`)}`).join(', ');
    return `SELECT c.*, c.value AS "$value", ${picked} FROM cells c JOIN cluster_rows r USING (row_id)`;
  }

  async distinct(reads: string[]): Promise<DistinctInput[]> {
    const readCols = reads.map((_, i) => ident(`r${i}`));
    const rows = await this.engine.rows<Record<string, string | null>>(
      `SELECT "$value" AS value${readCols.map((c) => `, ${c}`).join('')}, count(*) AS cells
       FROM (${await this.joined(reads)}) GROUP BY ALL ORDER BY cells DESC, value NULLS FIRST${readCols.map((c) => `, ${c} NULLS FIRST`).join('')}`,
    );
    return rows.map((r) => ({
      value: r['value'] ?? null,
      cells: Number(r['cells']),
      ...(reads.length ? { row: Object.fromEntries(reads.map((name, i) => [name, r[`r${i}`] ?? null])) } : {}),
    }));
  }
}
