import { join } from 'node:path';
import type { Column, Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { downloadObject } from '../store/download.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { DistinctInput, PatternInputs } from './measure.ts';
import { readObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';

/**
 * A cluster's cells in the engine (table `cells`: row_id, pk_hash, value, ...) and, loaded
 * only when a row-level candidate asks, the text of their rows (table `cluster_rows`, from
 * the batch's suspect outputs). Candidates are measured on distinct inputs, counted here.
 */
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
