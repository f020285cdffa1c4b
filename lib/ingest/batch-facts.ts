import { join } from 'node:path';
import type { Engine } from '../engine/duckdb.ts';
import { literal } from '../engine/sql.ts';
import { keys } from '../keys.ts';
import { putJson } from '../store/json-objects.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { BatchFacts } from './bouncer.ts';

/** The engine table of each batch-wide fact (see computeBatchFacts), uploaded as `work/<batch>/ingest/<table>.parquet`. */
export const FACTS = {
  repeatedKeys: 'facts_repeated_keys',
  uniqueReasons: 'facts_unique_reasons',
  evidence: 'facts_evidence',
  domains: 'facts_domains',
} as const;
/** A fact that has an engine table. */
export type FactName = keyof typeof FACTS;
export const FACT_NAMES = Object.keys(FACTS) as FactName[];

/**
 * Uploads the facts among `which` that the batch has (each its table as Parquet) and what discovery
 * found (`reports/<batch>/discovered.json`). A fanned-out batch's parent uploads every fact (its
 * parts load them); a whole file only those later steps read (the evidence and the domains).
 *
 * @example
 * await uploadBatchFacts(engine, store, { batch, stream, dir }, result.facts, ['evidence', 'domains']);
 */
export async function uploadBatchFacts(
  engine: Engine,
  store: ObjectStore,
  target: { batch: string; stream: string; dir: string },
  facts: BatchFacts,
  which: readonly FactName[],
): Promise<void> {
  const { batch, stream, dir } = target;
  const uploads: Promise<unknown>[] = [];
  for (const fact of which) {
    if (!facts[fact]) continue;
    const table = FACTS[fact];
    const local = join(dir, `${table}.parquet`);
    await engine.run(`COPY ${table} TO ${literal(local)} (FORMAT parquet)`);
    uploads.push(store.putFile(keys.batchFacts(batch, table), local, { contentType: 'application/vnd.apache.parquet' }));
  }
  if (facts.discovered) uploads.push(putJson(store, keys.discoveredRules(batch), { batch, stream, ...facts.discovered }));
  await Promise.all(uploads);
}
