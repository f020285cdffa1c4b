import { join } from 'node:path';
import type { Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { DataLossError } from '../errors.ts';
import { loadStreamProfile } from '../evidence/stream-profile.ts';
import { keys } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { uploadBatchFacts } from './batch-facts.ts';
import { classifyRows, writeOutputs, type BouncerResult, type ClassifyOptions } from './bouncer.ts';
import { countsBalance, type IngestManifest } from '../vault/ingest-manifest.ts';

export interface PublishedRows extends BouncerResult {
  outputs: IngestManifest['outputs'];
}

/**
 * The rows in table `src` (a whole file, or one part of it): classified, checked to balance,
 * written as Parquet and uploaded under the batch's keys for this part.
 */
export async function publishRows(
  engine: Engine,
  store: ObjectStore,
  contract: Contract,
  target: { stream: string; batch: string; part: number; dir: string; rowsLoaded: number },
  options: ClassifyOptions = {},
): Promise<PublishedRows> {
  const { stream, batch, part, dir } = target;
  // A whole file is judged against its stream's curated history too (a fanned-out batch's parent loaded it).
  if (!options.facts) await loadStreamProfile(store, engine, contract, batch, dir);
  const result = await classifyRows(engine, contract, options);
  const { counts } = result;
  if (counts.source !== target.rowsLoaded || !countsBalance(counts)) {
    throw new DataLossError(
      `batch ${batch} part ${part}: source ${counts.source} (loaded ${target.rowsLoaded}) != clean ${counts.clean} + suspect ${counts.suspect} + quarantined ${counts.quarantined} + collapsed ${counts.duplicates_collapsed}`,
    );
  }
  const local = { clean: join(dir, 'clean.parquet'), suspect: join(dir, 'suspect.parquet'), quarantine: join(dir, 'quarantine.parquet') };
  const written = await writeOutputs(engine, contract, counts, local);
  const outputs: IngestManifest['outputs'] = {
    clean: written.clean ? [keys.clean(stream, batch, part)] : [],
    suspect: written.suspect ? [keys.suspect(stream, batch, part)] : [],
    quarantine: written.quarantine ? [keys.quarantineRows(stream, batch, part)] : [],
  };
  const parquet = { contentType: 'application/vnd.apache.parquet' };
  await Promise.all([
    // A whole file's own evidence (a fanned-out batch's parent uploaded the batch's).
    !options.facts && uploadBatchFacts(engine, store, { batch, stream, dir }, result.facts, ['evidence', 'domains']),
    written.clean && store.putFile(outputs.clean[0]!, written.clean, parquet),
    written.suspect && store.putFile(outputs.suspect[0]!, written.suspect, parquet),
    written.quarantine && store.putFile(outputs.quarantine[0]!, written.quarantine, parquet),
  ]);
  return { ...result, outputs };
}
