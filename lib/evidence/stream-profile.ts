import { join } from 'node:path';
import type { Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, literal } from '../engine/sql.ts';
import { keys } from '../keys.ts';
import { downloadObject } from '../store/download.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { groupKeySql } from './dependency-evidence.ts';
import { dependencyRules } from './dependency-rules.ts';

/**
 * The stream's profile: what its curated history says about its declared dependencies, so that
 * the next batch is judged against everything already promoted (a small batch benefits from it).
 *
 * At each first promotion, reconcile writes the curated batch's votes, (dependency, group, value,
 * rows), as `profiles/<stream>/<as-of>--<batch>.parquet`: one object per batch, its key fixed by
 * the batch's reconcile start (a once-only stamp), so a retried or duplicated reconcile writes the
 * same object. Bounded: at most PROFILE_GROUPS groups per dependency and batch (the largest, whole), and
 * ingest reads the latest PROFILE_BATCHES objects, never the batch's own (a replay does not vote
 * for itself). Only dependencies over text-like columns are kept: their curated value is the text
 * that arrived.
 */
export const PROFILE_GROUPS = 5_000;
export const PROFILE_BATCHES = 20;

/** Column types whose curated (typed) value prints back as the text that arrived. */
const TEXT_LIKE = new Set(['string', 'enum', 'integer', 'email', 'phone']);

/** Writes the curated table `relation`'s votes for the contract's dependencies as the batch's profile object; returns its key, or null when there is nothing to keep. */
export async function writeStreamProfile(
  store: ObjectStore,
  engine: Engine,
  contract: Contract,
  target: { stream: string; batch: string; asOf: string; dir: string },
  relation: string,
): Promise<string | null> {
  const byName = new Map(contract.columns.map((c) => [c.name, c]));
  const rules = dependencyRules(contract).filter((r) => [...r.determinant, r.dependent].every((n) => TEXT_LIKE.has(byName.get(n)!.type)));
  if (rules.length === 0) return null;
  const text = contract.columns.map((c) => `CAST(${ident(c.name)} AS VARCHAR) AS ${ident(c.name)}`).join(', ');
  const arms = rules.map(
    // Whole groups, the largest first: a cut never keeps a group's winner without its minority.
    (r) => `(SELECT dependency, group_key, value, n FROM (
        SELECT *, sum(n) OVER (PARTITION BY group_key) AS group_rows FROM (
          SELECT ${literal(r.id)} AS dependency, group_key, value, count(*) AS n FROM (
            SELECT ${groupKeySql(contract, r.determinant)} AS group_key, ${ident(r.dependent)} AS value FROM texts)
          WHERE group_key IS NOT NULL AND value IS NOT NULL GROUP BY ALL))
      QUALIFY dense_rank() OVER (ORDER BY group_rows DESC, group_key) <= ${PROFILE_GROUPS})`,
  );
  const local = join(target.dir, 'profile.parquet');
  await engine.run(
    `COPY (WITH texts AS (SELECT ${text} FROM ${relation}) ${arms.join(' UNION ALL ')}) TO ${literal(local)} (FORMAT parquet)`,
  );
  const key = keys.streamProfile(target.stream, target.asOf, target.batch);
  await store.putFile(key, local, { contentType: 'application/vnd.apache.parquet' });
  return key;
}

/**
 * Loads the latest profile objects of the contract's stream (not `batch`'s own) into table `history_votes`
 * (`dependency`, `group_key`, `value`, `n`); returns how many objects it read.
 */
export async function loadStreamProfile(
  store: ObjectStore,
  engine: Engine,
  contract: Contract,
  batch: string,
  dir: string,
): Promise<number> {
  // Only declared dependencies are profiled: without one, there is nothing to read.
  if (dependencyRules(contract).length === 0) return 0;
  const stream = contract.stream;
  const listed = (await store.list(keys.streamProfilePrefix(stream))).filter(
    (k) => k.endsWith('.parquet') && !k.endsWith(`--${batch}.parquet`),
  );
  const latest = listed.sort().slice(-PROFILE_BATCHES);
  await engine.run('DROP TABLE IF EXISTS history_votes');
  if (latest.length === 0) return 0;
  const paths = await Promise.all(
    latest.map(async (key, i) => (await downloadObject(store, key, undefined, join(dir, `profile-${i}.parquet`))).path),
  );
  await engine.run(`CREATE TEMP TABLE history_votes AS
    SELECT dependency, group_key, value, sum(n) AS n FROM read_parquet([${paths.map(literal).join(', ')}]) GROUP BY ALL`);
  return latest.length;
}
