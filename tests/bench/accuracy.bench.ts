import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../lib/engine/duckdb.ts';
import { ident, literal } from '../../lib/engine/sql.ts';
import { keys } from '../../lib/keys.ts';
import type { ClusterResult } from '../../lib/vault/cluster-result.ts';
import { remediateCluster, settledResult } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { ENGINE, ingestAndCluster } from '../support/local-batch.ts';
import { ACCURACY_DATASETS, type AccuracyDataset } from './accuracy-datasets.ts';
import { writeBenchResult } from './bench-files.ts';

/**
 * bench:accuracy — cell repairs of the synthesizer and the evidence functions (no model, no labels) on the public dirty/clean
 * tables in ../shared/datasets. Each dirty file goes through the real ingest, cluster and
 * remediate steps; every staged cell is compared with the clean file (typed: 12 == 12.0).
 * precision = correct repairs / repairs; recall = correct repairs / wrong cells; also recall
 * over the wrong cells the contract flags at all, and the share of wrong cells whose clean
 * value can be read from the cell itself (its letters and digits are all in the dirty cell).
 * Per table it also says which rule (declared dependency or column rule) flagged how many wrong
 * cells, and how many repairs each function made and how many were right.
 * Results: tests/bench/results/accuracy.json.
 */
const THRESHOLD = Number(process.env['BENCH_THRESHOLD'] ?? 0.75);
/** BENCH_DISCOVER=1: every contract lets discovered dependencies and domains act (the default run declares only). */
const DISCOVER = process.env['BENCH_DISCOVER'] === '1';

interface Scores {
  rows: number;
  wrong_cells: number;
  flagged_wrong_cells: number;
  fixable_from_cell: number;
  repairs: number;
  correct_repairs: number;
  /** null when nothing was repaired (no repair made the table worse, and none made it better). */
  precision: number | null;
  recall: number;
  f1: number;
  recall_of_flagged: number;
  clusters: number;
  clusters_by_disposition: Record<string, number>;
  functions_used: Record<string, number>;
  discovered: {
    dependencies: number;
    acting_dependencies: string[];
    strongest: string[];
    domains_with_outliers: string[];
    acting_domains: string[];
  };
  found_by_rule: Record<string, { flagged_cells: number; wrong_cells: number }>;
  repairs_by_function: Record<string, { repairs: number; correct: number; precision: number }>;
  seconds: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : Number((a / b).toFixed(4)));

async function score(dataset: AccuracyDataset, sandbox: Sandbox): Promise<Scores> {
  const started = performance.now();
  const dirty = readFileSync(join(dataset.dir, 'dirty.csv'), 'utf8');
  const contract = DISCOVER ? { ...dataset.contract, discover: { dependencies: true, domains: true } } : dataset.contract;
  const batch = await ingestAndCluster(contract, dataset.contract.stream, dirty, 'dirty.csv');
  const engine = await Engine.open({ ...ENGINE, spillDir: join(batch.workDir, 'bench-spill') });
  try {
    const results: ClusterResult[] = [];
    for (const spec of batch.clusters) {
      const outcome = await remediateCluster(
        { store: batch.store, workDir: batch.workDir, engine: ENGINE, sandbox, threshold: THRESHOLD, model: undefined },
        keys.cluster(batch.batch, spec.cluster),
      );
      results.push(settledResult(outcome));
    }
    const discovered = JSON.parse(readFileSync(join(batch.root, keys.discoveredRules(batch.batch)), 'utf8')) as {
      dependencies: { id: string; agreement: number; acting: boolean }[];
      domains: { column: string; outlier_values: number; acting: boolean }[];
    };
    const names = dataset.contract.columns.map((c) => c.name);
    const read = (file: string) =>
      `SELECT row_number() OVER () AS row_id, * FROM read_csv(${literal(join(dataset.dir, file))}, header = true, all_varchar = true, quote = '"', names = [${names.map(literal).join(', ')}])`;
    // Long form: one row per cell; NULL and the empty string are the same missing value.
    for (const side of ['dirty', 'clean']) {
      await engine.run(`CREATE TABLE ${side}_wide AS ${read(`${side}.csv`)}`);
      await engine.run(
        `CREATE TABLE ${side}_long AS SELECT row_id, col, COALESCE(v, '') AS v FROM (SELECT * FROM ${side}_wide UNPIVOT INCLUDE NULLS (v FOR col IN (${names.map(ident).join(', ')})))`,
      );
    }
    await engine.run(
      `CREATE TABLE cells AS SELECT d.row_id, d.col, d.v AS dirty, c.v AS clean FROM dirty_long d JOIN clean_long c USING (row_id, col)`,
    );
    const same = (a: string, b: string) =>
      `(trim(${a}) = trim(${b}) OR (TRY_CAST(trim(${a}) AS DOUBLE) IS NOT NULL AND TRY_CAST(trim(${a}) AS DOUBLE) = TRY_CAST(trim(${b}) AS DOUBLE)))`;
    const staged = results.flatMap((r) =>
      r.outputs.staged
        ? [
            `SELECT row_id, column_name AS col, new_value, ${literal(`${r.column}:${r.function?.name ?? r.tier}`)} AS fn FROM read_parquet(${literal(join(batch.root, r.outputs.staged))})`,
          ]
        : [],
    );
    await engine.run(
      staged.length
        ? `CREATE TABLE repairs AS ${staged.join(' UNION ALL ')}`
        : 'CREATE TABLE repairs (row_id BIGINT, col VARCHAR, new_value VARCHAR, fn VARCHAR)',
    );
    const flaggedFiles = batch.clusters.map((c) => join(batch.root, c.cells_object));
    await engine.run(
      `CREATE TABLE flagged_rules AS SELECT DISTINCT row_id, column_name AS col, column_name || ':' || rule AS rule FROM read_parquet([${flaggedFiles.map(literal).join(', ')}])`,
    );
    await engine.run('CREATE TABLE flagged AS SELECT DISTINCT row_id, col FROM flagged_rules');
    // The clean value's letters and digits, each as often as it appears, are all in the dirty cell.
    const chars = (v: string) => `list_sort(regexp_extract_all(lower(${v}), '[a-z0-9]'))`;
    const [row] = await engine.rows<Record<string, string>>(`
      WITH wrong AS (SELECT * FROM cells WHERE NOT ${same('dirty', 'clean')}),
      judged AS (SELECT r.*, ${same("COALESCE(r.new_value, '')", 'c.clean')} AS correct, NOT ${same('c.dirty', 'c.clean')} AS was_wrong
                 FROM repairs r JOIN cells c USING (row_id, col))
      SELECT (SELECT count(*) FROM cells WHERE col = ${literal(names[0]!)}) AS rows,
        (SELECT count(*) FROM wrong) AS wrong_cells,
        (SELECT count(*) FROM wrong SEMI JOIN flagged USING (row_id, col)) AS flagged_wrong_cells,
        (SELECT count(*) FROM wrong WHERE clean <> '' AND list_has_all(${chars('dirty')}, ${chars('clean')})
           AND len(${chars('clean')}) <= len(${chars('dirty')})) AS fixable_from_cell,
        (SELECT count(*) FROM judged) AS repairs,
        (SELECT count(*) FROM judged WHERE correct AND was_wrong) AS correct_repairs`);
    const n = (k: string) => Number(row![k]);
    // Which rule found which errors (a wrong cell may be found by one rule only: a cell its
    // dependency settles is that cluster's alone), and what each function's repairs were worth.
    const byRule = await engine.rows<{ rule: string; flagged: string; wrong: string }>(`
      SELECT f.rule, count(*) AS flagged, count(*) FILTER (WHERE NOT ${same('c.dirty', 'c.clean')}) AS wrong
      FROM flagged_rules f JOIN cells c USING (row_id, col) GROUP BY f.rule ORDER BY f.rule`);
    const byFunction = await engine.rows<{ fn: string; repairs: string; correct: string }>(`
      SELECT r.fn, count(*) AS repairs,
        count(*) FILTER (WHERE ${same("COALESCE(r.new_value, '')", 'c.clean')} AND NOT ${same('c.dirty', 'c.clean')}) AS correct
      FROM repairs r JOIN cells c USING (row_id, col) GROUP BY r.fn ORDER BY r.fn`);
    const precision = n('repairs') ? ratio(n('correct_repairs'), n('repairs')) : null;
    const recall = ratio(n('correct_repairs'), n('wrong_cells'));
    const count = (values: string[]) => values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});
    return {
      rows: n('rows'),
      wrong_cells: n('wrong_cells'),
      flagged_wrong_cells: n('flagged_wrong_cells'),
      fixable_from_cell: n('fixable_from_cell'),
      repairs: n('repairs'),
      correct_repairs: n('correct_repairs'),
      precision,
      recall,
      f1: !precision || precision + recall === 0 ? 0 : Number(((2 * precision * recall) / (precision + recall)).toFixed(4)),
      recall_of_flagged: ratio(n('correct_repairs'), n('flagged_wrong_cells')),
      clusters: results.length,
      clusters_by_disposition: count(results.map((r) => r.disposition)),
      functions_used: count(results.flatMap((r) => (r.function ? [`${r.column}:${r.function.name}`] : []))),
      discovered: {
        dependencies: discovered.dependencies.length,
        acting_dependencies: discovered.dependencies.filter((d) => d.acting).map((d) => d.id),
        strongest: discovered.dependencies.slice(0, 10).map((d) => `${d.id} (${d.agreement})`),
        domains_with_outliers: discovered.domains.filter((d) => d.outlier_values > 0).map((d) => `${d.column}: ${d.outlier_values}`),
        acting_domains: discovered.domains.filter((d) => d.acting).map((d) => d.column),
      },
      found_by_rule: Object.fromEntries(byRule.map((r) => [r.rule, { flagged_cells: Number(r.flagged), wrong_cells: Number(r.wrong) }])),
      repairs_by_function: Object.fromEntries(
        byFunction.map((r) => [
          r.fn,
          { repairs: Number(r.repairs), correct: Number(r.correct), precision: ratio(Number(r.correct), Number(r.repairs)) },
        ]),
      ),
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    };
  } finally {
    engine.close();
    batch.cleanup();
  }
}

const sandbox = new Sandbox();
try {
  const datasets: Record<string, Scores & { share_flagged: number; share_fixable_from_cell: number }> = {};
  for (const dataset of ACCURACY_DATASETS) {
    const s = await score(dataset, sandbox);
    datasets[dataset.name] = {
      ...s,
      share_flagged: ratio(s.flagged_wrong_cells, s.wrong_cells),
      share_fixable_from_cell: ratio(s.fixable_from_cell, s.wrong_cells),
    };
  }
  writeBenchResult(DISCOVER ? 'accuracy-discover' : 'accuracy', {
    bench: DISCOVER ? 'accuracy-discover' : 'accuracy',
    discover: DISCOVER,
    tier: 'synthesizer and evidence functions, no model, no labels',
    threshold: THRESHOLD,
    definitions: {
      precision: 'correct repairs / repairs (a repair is a staged cell change)',
      recall: 'correct repairs / wrong cells (dirty differs from clean, typed comparison)',
      recall_of_flagged: 'correct repairs / wrong cells that break the contract (only those reach remediation)',
      fixable_from_cell: "wrong cells whose clean value's letters and digits all occur in the dirty cell (the information is there)",
    },
    datasets,
  });
} finally {
  sandbox.dispose();
}
