import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';

/**
 * The columnar engine: an in-process DuckDB with a memory limit and a spill directory, so a
 * file larger than the limit is processed out of core instead of failing or swapping.
 */
export interface EngineOptions {
  /** e.g. "512MB" */
  memoryLimit: string;
  threads: number;
  spillDir: string;
}

/** With VAULTMEND_SQL_TRACE set, each statement's wall time goes to stderr (profiling). */
function trace(sql: string, since: number): void {
  if (!process.env['VAULTMEND_SQL_TRACE']) return;
  process.stderr.write(`[sql ${Math.round(performance.now() - since)} ms] ${sql.replace(/\s+/g, ' ').slice(0, 160)}\n`);
}

export class Engine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(options: EngineOptions): Promise<Engine> {
    mkdirSync(options.spillDir, { recursive: true });
    // Loaded at the first engine, not at a handler's start: a cold start that needs no engine skips ~100 ms.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit,
      threads: String(options.threads),
      temp_directory: options.spillDir,
      preserve_insertion_order: 'true',
      // Nothing is fetched at run time: no extension downloads (parquet and json are built in).
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const connection = await instance.connect();
    // Timestamps with an offset are normalised to UTC, whatever the machine's zone.
    await connection.run(`SET TimeZone = 'UTC'`);
    return new Engine(instance, connection);
  }

  async run(sql: string): Promise<void> {
    const t = performance.now();
    await this.connection.run(sql);
    trace(sql, t);
  }

  /** Rows as plain JSON-safe objects (BIGINT as string). */
  async rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const t = performance.now();
    const reader = await this.connection.runAndReadAll(sql);
    trace(sql, t);
    return reader.getRowObjectsJson() as T[];
  }

  /**
   * Creates `table` (replacing it) with an INTEGER column `$k` and text columns, and fills it
   * through the appender: values the host computed, loaded without building SQL text.
   */
  async loadTextTable(table: string, columns: string[], rows: readonly (readonly (string | null)[])[]): Promise<void> {
    const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;
    // The row number is `$k`: a name no contract column can have.
    await this.connection.run(
      `CREATE OR REPLACE TABLE ${quoted(table)} ("$k" INTEGER, ${columns.map((c) => `${quoted(c)} VARCHAR`).join(', ')})`,
    );
    const appender = await this.connection.createAppender(table);
    try {
      rows.forEach((row, k) => {
        appender.appendInteger(k);
        for (const value of row) {
          if (value === null) appender.appendNull();
          else appender.appendVarchar(value);
        }
        appender.endRow();
      });
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
