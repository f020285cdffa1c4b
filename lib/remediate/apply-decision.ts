import { join } from 'node:path';
import type { ClusterSpec } from '../vault/cluster-spec.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import type { Decision } from '../vault/decision.ts';
import { maskValue } from './mask-pii.ts';
import { readColumns, type Measurement } from './measure.ts';
import type { PatternTable } from './pattern-table.ts';

/**
 * Applies a decision to every cell of the cluster in one set operation: the function's
 * outcome per distinct input (from the sandbox) is joined back to the cells. Cells whose
 * output passes are staged (one row per changed cell: old and new value); cells whose
 * output still fails — or all cells, when the cluster goes to review — are quarantined one
 * by one with their reason; every staged cell gets an audit row. Nothing is dropped: each
 * cell ends in exactly one of staged or quarantined.
 */
export interface Applied {
  counts: ClusterResult['counts'];
  outputs: ClusterResult['outputs'];
  examples: ClusterResult['evidence']['examples'];
}

const EXAMPLES = 8;
const PARQUET = { contentType: 'application/vnd.apache.parquet' };

async function copyOut(engine: Engine, store: ObjectStore, sql: string, local: string, key: string): Promise<void> {
  await engine.run(`COPY (${sql}) TO ${literal(local)} (FORMAT parquet)`);
  await store.putFile(key, local, PARQUET);
}

/**
 * Where a decision's outputs go and who took it: the cluster's own keys for the tiers' decision;
 * the `.reviewed` keys and the operator's name for a person's (the first outputs stay as they are).
 */
export interface Placement {
  staged: string;
  quarantine: string;
  audit: string;
  operator: string | null;
}

/** The placement of the tiers' decision on a cluster. */
export const tierPlacement = (spec: ClusterSpec): Placement => ({
  staged: keys.staged(spec.stream, spec.batch, spec.cluster),
  quarantine: keys.quarantineCells(spec.stream, spec.batch, spec.cluster),
  audit: keys.auditPart(spec.batch, spec.cluster),
  operator: null,
});

export async function applyDecision(
  engine: Engine,
  store: ObjectStore,
  dir: string,
  spec: ClusterSpec,
  pattern: PatternTable,
  decision: Decision,
  measurement: Measurement | undefined,
  place: Placement = tierPlacement(spec),
): Promise<Applied> {
  const fn = decision.function;
  const reads = fn ? readColumns({ name: fn.name, source: fn.source, reads: fn.reads, writes: fn.writes }) : [];
  const writes = fn && fn.writes.length ? fn.writes : [spec.column];
  const readIndex = (name: string) => reads.indexOf(name);
  const rCols = reads.map((_, i) => ident(`r${i}`));
  const wCols = writes.map((_, i) => ident(`w${i}`));

  if (fn && measurement) {
    const rows = measurement.outcomes.map((o) => [
      o.input.value,
      ...reads.map((r) => o.input.row?.[r] ?? null),
      o.verdict,
      ...writes.map((_, i) => o.writes[i] ?? null),
    ]);
    await engine.loadTextTable('decided', ['value', ...reads.map((_, i) => `r${i}`), 'verdict', ...writes.map((_, i) => `w${i}`)], rows);
    const on = ['j."$value" IS NOT DISTINCT FROM d.value', ...rCols.map((c) => `j.${c} IS NOT DISTINCT FROM d.${c}`)].join(' AND ');
    await engine.run(`CREATE OR REPLACE TABLE applied AS
      SELECT j.row_id, j.pk_hash, j.column_name, j."$value" AS value${rCols.map((c) => `, j.${c}`).join('')},
        COALESCE(d.verdict, 'unmatched') AS verdict${wCols.map((c) => `, d.${c}`).join('')}
      FROM (${await pattern.joined(reads)}) j LEFT JOIN decided d ON ${on}`);
  } else {
    const reason = decision.disposition === 'llm-unavailable' ? 'llm-unavailable' : 'needs-review';
    await engine.run(
      `CREATE OR REPLACE TABLE applied AS SELECT row_id, pk_hash, column_name, value, ${literal(reason)} AS verdict FROM cells`,
    );
  }

  // One staged row per changed cell; a row-level function may change several columns of a row.
  const oldOf = (i: number) => (i === 0 ? 'value' : ident(`r${readIndex(writes[i]!)}`));
  const staged = fn
    ? writes
        .map(
          (name, i) => `SELECT row_id, pk_hash, ${literal(name)} AS column_name, ${oldOf(i)} AS old_value, ${ident(`w${i}`)} AS new_value
          FROM applied WHERE verdict = 'ok' AND ${ident(`w${i}`)} IS DISTINCT FROM ${oldOf(i)}`,
        )
        .join(' UNION ALL ')
    : undefined;
  const quarantined = `SELECT row_id, pk_hash, column_name, value, ${fn ? `'fix-failed:' || verdict` : 'verdict'} AS reason, ${literal(spec.cluster)} AS cluster
    FROM applied WHERE verdict <> 'ok'`;
  const [counted] = await engine.rows<{ cells: string; rows: string; failed: string }>(
    `SELECT count(*) AS cells, count(DISTINCT row_id) AS rows, count(*) FILTER (WHERE verdict <> 'ok') AS failed FROM applied`,
  );
  const stagedCells = staged ? Number((await engine.rows<{ n: string }>(`SELECT count(*) AS n FROM (${staged})`))[0]?.n ?? 0) : 0;

  const outputs: Applied['outputs'] = { staged: null, quarantine: null, audit: null };
  if (staged && stagedCells > 0) {
    outputs.staged = place.staged;
    await copyOut(engine, store, `${staged} ORDER BY row_id, column_name`, join(dir, 'staged.parquet'), outputs.staged);
    outputs.audit = place.audit;
    const model = decision.model;
    await copyOut(
      engine,
      store,
      `SELECT row_id, pk_hash, column_name AS "column", old_value AS old, new_value AS new, ${literal(fn!.source)} AS function,
         ${literal(fn!.name)} AS function_name, ${literal(decision.tier)} AS tier, ${decision.confidence}::DOUBLE AS confidence,
         ${model ? literal(model.name) : 'NULL::VARCHAR'} AS model, ${model ? literal(model.digest) : 'NULL::VARCHAR'} AS model_version,
         ${literal(decision.decided_at)}::TIMESTAMPTZ AS timestamp, ${literal(spec.batch)} AS batch, ${literal(spec.cluster)} AS cluster,
         ${place.operator ? literal(place.operator) : 'NULL::VARCHAR'} AS operator
       FROM (${staged}) ORDER BY row_id, column_name`,
      join(dir, 'audit.parquet'),
      outputs.audit,
    );
  }
  const failed = Number(counted?.failed ?? 0);
  if (failed > 0) {
    outputs.quarantine = place.quarantine;
    await copyOut(engine, store, `${quarantined} ORDER BY row_id, column_name`, join(dir, 'quarantine.parquet'), outputs.quarantine);
  }

  const mask = (v: string | null) => (v !== null && spec.pii ? maskValue(v, `${spec.batch}/${spec.cluster}`) : v);
  const examples = measurement
    ? [
        ...measurement.outcomes.filter((o) => o.verdict === 'ok').slice(0, EXAMPLES / 2),
        ...measurement.outcomes.filter((o) => o.verdict !== 'ok').slice(0, EXAMPLES / 2),
      ].map((o) => ({
        before: mask(o.input.value),
        after: o.writes.map(mask),
        verdict: o.verdict,
      }))
    : spec.samples.slice(0, EXAMPLES).map((s) => ({ before: mask(s.value), after: [], verdict: decision.disposition }));
  return {
    counts: { cells: Number(counted?.cells ?? 0), rows: Number(counted?.rows ?? 0), staged_cells: stagedCells, quarantined_cells: failed },
    outputs,
    examples,
  };
}
