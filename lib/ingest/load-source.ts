import type { Contract } from '../contract/contract.ts';
import { engineStorageClass, type SchemaColumn } from '../contract/schema-fingerprint.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { anyRuleFails, rowRules, withTypedColumns } from '../contract/rules-sql.ts';
import { readCsvHeader } from './csv-header.ts';
import { InputRejectedError, rejectFromEngineError } from './input-rejected.ts';

/** Lines longer than this are refused (a 100 MB single line must not take the function down). */
export const MAX_LINE_BYTES = 8 << 20;

export interface SourceFile {
  path: string;
  format: Contract['format'];
  gzip: boolean;
}

/** How to read the file's body once its columns are known. */
export interface SourceReader {
  observed: SchemaColumn[];
  /** A SELECT of the file's values as text, one column per observed name, in file order. */
  select: string;
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InputRejectedError) throw error;
    throw rejectFromEngineError(error) ?? error;
  }
}

/** Finds the columns a file carries (the input to the drift check) and how to read it. */
export async function openSource(engine: Engine, file: SourceFile): Promise<SourceReader> {
  const path = literal(file.path);
  const compression = file.gzip ? 'gzip' : 'none';
  return guard(async () => {
    if (file.format.type === 'csv') {
      const header = await readCsvHeader(file.path, file.format.quote, file.format.delimiter, file.gzip);
      const columns = header.columns.map((c) => `${literal(c)}: 'VARCHAR'`).join(', ');
      const options = [
        'auto_detect=false',
        'header=true',
        `columns={${columns}}`,
        `delim=${literal(header.delimiter)}`,
        `quote=${literal(file.format.quote)}`,
        `escape=${literal(file.format.quote)}`,
        'strict_mode=true',
        'allow_quoted_nulls=false',
        `max_line_size=${MAX_LINE_BYTES}`,
        // The reader's buffer defaults to 16 x max_line_size (128 MiB), more than a small memory limit allows.
        `buffer_size=${2 * MAX_LINE_BYTES}`,
        `compression=${literal(compression)}`,
      ].join(', ');
      return {
        observed: header.columns.map((name) => ({ name, type: 'text' })),
        select: `SELECT * FROM read_csv(${path}, ${options})`,
      };
    }
    if (file.format.type === 'jsonl') {
      const jsonCompression = file.gzip ? 'gzip' : 'uncompressed';
      const objects = `read_json_objects(${path}, format='newline_delimited', compression=${literal(jsonCompression)}, maximum_object_size=${MAX_LINE_BYTES})`;
      const [shape] = await engine.rows<{ not_objects: string }>(
        `SELECT count(*) FILTER (WHERE json_type(json) <> 'OBJECT') AS not_objects FROM ${objects}`,
      );
      if (Number(shape?.not_objects ?? 0) > 0) {
        throw new InputRejectedError('jsonl-not-object', `${shape!.not_objects} line(s) are JSON but not objects`);
      }
      // Keys in order of first appearance, so a renamed key sits where the old one was.
      const keys = await engine.rows<{ k: string }>(
        `SELECT k FROM (SELECT unnest(json_keys(json)) AS k, row_number() OVER () AS o FROM ${objects}) GROUP BY k ORDER BY min(o)`,
      );
      const names = keys.map((r) => r.k);
      const projection = names.map((n) => `json_extract_string(json, ${literal(`$."${n.replace(/"/g, '\\"')}"`)}) AS ${ident(n)}`);
      return {
        observed: names.map((name) => ({ name, type: 'text' })),
        select: `SELECT ${projection.join(', ') || 'NULL AS _none'} FROM ${objects}`,
      };
    }
    const described = await engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${path})`);
    const projection = described.map((c) => `CAST(${ident(c.column_name)} AS VARCHAR) AS ${ident(c.column_name)}`);
    return {
      observed: described.map((c) => ({ name: c.column_name, type: engineStorageClass(c.column_type) })),
      select: `SELECT ${projection.join(', ')} FROM read_parquet(${path})`,
    };
  });
}

/**
 * Loads the body into table `src` in one pass of the reader: the contract's columns as text,
 * exactly as they arrived, in file order (so `rowid + 1` is the row's 1-based position), each
 * cast column's typed value once (`$<name>`), and `$bad`: whether the row breaks any row rule.
 * Which rules it breaks is worked out later for the few rows that do. Returns the row count.
 */
export async function loadSourceTable(engine: Engine, reader: SourceReader, contract: Contract): Promise<number> {
  const columns = contract.columns.map((c) => ident(c.name)).join(', ');
  return guard(async () => {
    await engine.run(`CREATE OR REPLACE TABLE src AS
      SELECT *, ${anyRuleFails(rowRules(contract))} AS "$bad"
      FROM (${withTypedColumns(contract, `SELECT ${columns} FROM (${reader.select})`)})`);
    const [count] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM src');
    return Number(count?.n ?? 0);
  });
}

/**
 * For a file that fans out: the whole file once into table `numbered` (`row_id` = 1-based
 * position, and the contract's columns as text), so that facts about the whole batch can be
 * computed before it is split. Streams through the engine (spilling); returns the row count.
 */
export async function loadNumberedTable(engine: Engine, reader: SourceReader, contract: Contract): Promise<number> {
  const columns = contract.columns.map((c) => ident(c.name)).join(', ');
  return guard(async () => {
    await engine.run(`CREATE OR REPLACE TABLE numbered AS SELECT row_number() OVER () AS row_id, ${columns} FROM (${reader.select})`);
    const [count] = await engine.rows<{ n: string }>('SELECT count(*) AS n FROM numbered');
    return Number(count?.n ?? 0);
  });
}
