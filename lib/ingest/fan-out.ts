import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ContractSchema } from '../contract/contract.ts';
import type { CheckedContract } from '../contract/batch-contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import { DataLossError } from '../errors.ts';
import { keys } from '../keys.ts';
import { putJson } from '../store/json-objects.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { loadStreamProfile } from '../evidence/stream-profile.ts';
import { computeBatchFacts, type BatchFacts } from './bouncer.ts';
import { FACT_NAMES, uploadBatchFacts } from './batch-facts.ts';
import { InputRejectedError } from './input-rejected.ts';
import { loadNumberedTable, type SourceReader } from './load-source.ts';
import type { IngestManifest } from '../vault/ingest-manifest.ts';
import { splitSource } from './split-source.ts';
import { objectKind } from '../vault/vault-object.ts';

/**
 * A file too large for one invocation fans out: the parent reads it once to learn what needs
 * the whole batch (repeated keys, unique tests), splits it between records into parts under
 * `parts/`, and writes a plan. Each part's upload triggers its own ingest (see ingest-part.ts);
 * the last part to finish writes the batch manifest.
 */
export const FanOutPlanSchema = z.object({
  batch: z.string(),
  stream: z.string(),
  source: z.custom<IngestManifest['source']>(),
  contract: z.object({
    contract: ContractSchema,
    fingerprint: z.string(),
    registered_at: z.string(),
    registry_version: z.number().int().positive().optional(),
    proposal: z.string().optional(),
  }),
  schema_fingerprint: z.string(),
  facts: z.object({
    repeatedKeys: z.boolean(),
    uniqueReasons: z.boolean(),
    evidence: z.boolean().default(false),
    domains: z.boolean().optional(),
  }),
  rows: z.number().int().nonnegative(),
  parts: z.array(
    z.object({
      part: z.number().int().nonnegative(),
      key: z.string(),
      first_row: z.number().int().positive(),
      rows: z.number().int().nonnegative(),
    }),
  ),
});
export type FanOutPlan = z.infer<typeof FanOutPlanSchema>;
/** `manifests/<batch>/plan.json`: how a large file was split into parts. */
export const fanOutPlanObject = objectKind('fan-out plan', keys.fanOutPlan, FanOutPlanSchema);

export interface FanOutInput {
  store: ObjectStore;
  engine: Engine;
  reader: SourceReader;
  registered: CheckedContract;
  source: IngestManifest['source'];
  schemaFingerprint: string;
  batch: string;
  stream: string;
  dir: string;
  /** The independent record count of the content (header included for CSV). */
  records: number;
  localPath: string;
  partBytes: number;
}

export async function fanOut(input: FanOutInput): Promise<FanOutPlan> {
  const { engine, store, registered, batch, stream } = input;
  const contract = registered.contract;
  const rows = await loadNumberedTable(engine, input.reader, contract);
  const expected = contract.format.type === 'csv' ? input.records - 1 : rows;
  if (rows !== expected)
    throw new InputRejectedError('csv-row-count-mismatch', `the engine read ${rows} rows where the bytes hold ${expected}`);
  if (rows === 0) throw new InputRejectedError('no-rows', 'the file has a header but no rows');

  await loadStreamProfile(store, engine, contract, batch, input.dir);
  const computed: BatchFacts = await computeBatchFacts(engine, contract, 'numbered');
  await engine.run('DROP TABLE numbered');
  // Every fact: each part loads them.
  await uploadBatchFacts(engine, store, { batch, stream, dir: input.dir }, computed, FACT_NAMES);
  const { discovered: _report, ...facts } = computed;

  const format = contract.format.type === 'jsonl' ? 'jsonl' : 'csv';
  const partsDir = join(input.dir, 'parts');
  mkdirSync(partsDir, { recursive: true });
  const pieces = await splitSource(input.localPath, input.source.gzip, format, input.partBytes, partsDir);
  let firstRow = 1;
  const parts = pieces.map((piece, part) => {
    const entry = { part, key: keys.sourcePart(stream, batch, part, format), first_row: firstRow, rows: piece.rows };
    firstRow += piece.rows;
    return entry;
  });
  if (firstRow - 1 !== rows) throw new DataLossError(`batch ${batch}: the parts hold ${firstRow - 1} rows, the file ${rows}`);

  const plan: FanOutPlan = {
    batch,
    stream,
    source: input.source,
    contract: registered,
    schema_fingerprint: input.schemaFingerprint,
    facts,
    rows,
    parts,
  };
  // The plan first: each part's invocation reads it.
  await putJson(store, keys.fanOutPlan(batch), plan);
  for (const [i, piece] of pieces.entries()) await store.putFile(parts[i]!.key, piece.path, { contentType: 'text/plain' });
  return plan;
}
