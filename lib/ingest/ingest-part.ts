import { contractRef } from '../contract/batch-contract.ts';
import { join } from 'node:path';
import { z } from 'zod';
import { Engine } from '../engine/duckdb.ts';
import { literal } from '../engine/sql.ts';
import { DataLossError } from '../errors.ts';
import { keys, parsePartKey } from '../keys.ts';
import { putJson } from '../store/json-objects.ts';
import type { BatchFacts } from './bouncer.ts';
import { downloadObject } from '../store/download.ts';
import { FACTS } from './batch-facts.ts';
import { fanOutPlanObject, type FanOutPlan } from './fan-out.ts';
import type { IngestDeps, IngestRequest } from './ingest-object.ts';
import { loadSourceTable, openSource } from './load-source.ts';
import { countsBalance, type IngestManifest, type RowCounts } from '../vault/ingest-manifest.ts';
import { publishRows } from './publish-rows.ts';
import { haltForFailures, isAccepted } from '../streams/halt-for-failures.ts';
import { objectKind, readObject, writeObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';
import { withWorkspace } from '../engine/workspace.ts';

const PartManifestSchema = z.object({
  batch: z.string(),
  part: z.number().int(),
  rows: z.custom<RowCounts>(),
  reasons: z.record(z.string(), z.number()),
  outputs: z.custom<IngestManifest['outputs']>(),
  timings_ms: z.record(z.string(), z.number()),
});
/** `manifests/<batch>/parts/<n>.json`: one part's counts and outputs. */
const partManifestObject = objectKind('part manifest', keys.partManifest, PartManifestSchema);

export type PartOutcome =
  | { status: 'part-ingested'; batch: string; part: number; manifestKey: string | null }
  | { status: 'part-already-ingested'; batch: string; part: number };

/**
 * One part of a fanned-out batch: the same bouncer as a whole file, with row ids kept as
 * positions in the whole file and the batch-wide facts the parent computed. The last part to
 * finish writes the batch manifest (idempotent: it only writes it when missing).
 */
export async function ingestPart(deps: IngestDeps, request: IngestRequest): Promise<PartOutcome> {
  const started = performance.now();
  const { stream, batch, part } = parsePartKey(request.key);
  const plan = await readObject(deps.store, fanOutPlanObject.at(batch));
  const entry = plan.parts.find((p) => p.part === part);
  if (!entry || entry.key !== request.key || plan.stream !== stream)
    throw new DataLossError(`${request.key} is not a part of the plan of batch ${batch}`);
  if (await deps.store.exists(keys.partManifest(batch, part))) {
    // A replay (a resumed stream): every part is done, and the batch may complete now.
    await completeBatch(deps, plan);
    return { status: 'part-already-ingested', batch, part };
  }

  const contract = plan.contract.contract;
  return withWorkspace(deps.workDir, 'ingest-part', deps.engine, async ({ dir, engine }) => {
    const downloaded = await downloadObject(deps.store, request.key, request.versionId, join(dir, 'part'));
    const reader = await openSource(engine, { path: downloaded.path, format: contract.format, gzip: false });
    const rowsLoaded = await loadSourceTable(engine, reader, contract);
    if (rowsLoaded !== entry.rows)
      throw new DataLossError(`${request.key}: the engine read ${rowsLoaded} rows, the plan says ${entry.rows}`);
    const facts = await loadFacts(deps, engine, plan, dir);
    const published = await publishRows(
      engine,
      deps.store,
      contract,
      { stream, batch, part, dir, rowsLoaded },
      { rowOffset: entry.first_row - 1, facts },
    );
    await putJson(deps.store, keys.partManifest(batch, part), {
      batch,
      part,
      rows: published.counts,
      reasons: published.reasons,
      outputs: published.outputs,
      timings_ms: { total: Math.round(performance.now() - started) },
    });
    const manifestKey = await completeBatch(deps, plan);
    return { status: 'part-ingested', batch, part, manifestKey };
  });
}

async function loadFacts(deps: IngestDeps, engine: Engine, plan: FanOutPlan, dir: string): Promise<BatchFacts> {
  for (const [fact, table] of Object.entries(FACTS) as Array<[keyof typeof FACTS, string]>) {
    if (!plan.facts[fact]) continue;
    const local = join(dir, `${table}.parquet`);
    await downloadObject(deps.store, keys.batchFacts(plan.batch, table), undefined, local);
    await engine.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM read_parquet(${literal(local)})`);
  }
  return plan.facts;
}

/** When every part has its manifest, the batch manifest is their sum; returns its key once written. */
async function completeBatch(deps: IngestDeps, plan: FanOutPlan): Promise<string | null> {
  const manifestKey = keys.ingestManifest(plan.batch);
  // HEADs, not a listing: a listing of a versioned RGW bucket can trail the writes of the other parts.
  const done = await Promise.all(plan.parts.map((p) => deps.store.exists(keys.partManifest(plan.batch, p.part))));
  if (done.includes(false) || (await deps.store.exists(manifestKey))) return null;
  const parts = await Promise.all(plan.parts.map(async (p) => readObject(deps.store, partManifestObject.at(plan.batch, p.part))));
  const rows: RowCounts = { source: 0, clean: 0, suspect: 0, quarantined: 0, duplicates_collapsed: 0 };
  const reasons: Record<string, number> = {};
  const outputs: IngestManifest['outputs'] = { clean: [], suspect: [], quarantine: [] };
  for (const part of parts) {
    for (const k of Object.keys(rows) as Array<keyof RowCounts>) rows[k] += part.rows[k];
    for (const [reason, n] of Object.entries(part.reasons)) reasons[reason] = (reasons[reason] ?? 0) + n;
    for (const k of Object.keys(outputs) as Array<keyof IngestManifest['outputs']>) outputs[k].push(...part.outputs[k]);
  }
  if (rows.source !== plan.rows || !countsBalance(rows)) {
    throw new DataLossError(`batch ${plan.batch}: the parts hold ${rows.source} rows of ${plan.rows}, or do not balance`);
  }
  // The circuit breaker, for the whole file: no batch manifest until an operator accepts it.
  const limit = plan.contract.contract.max_failing_share;
  const failing = rows.source ? (rows.suspect + rows.quarantined) / rows.source : 0;
  if (limit !== undefined && failing > limit && !(await isAccepted(deps.store, plan.stream, plan.batch))) {
    await haltForFailures(deps.store, deps.alerts, {
      stream: plan.stream,
      batch: plan.batch,
      key: plan.source.key,
      versionId: plan.source.version_id,
      reason: 'failing-share',
      at: (deps.now ?? (() => new Date()))(),
      summary: `${(failing * 100).toFixed(1)}% of ${plan.source.key} failed the contract (more than ${(limit * 100).toFixed(1)}%)`,
      details: { counts: rows, reasons, parts: plan.parts.length },
    });
    return null;
  }
  const manifest: IngestManifest = {
    schema_version: 2,
    batch: plan.batch,
    stream: plan.stream,
    status: 'ingested',
    source: plan.source,
    contract: contractRef(plan.contract),
    schema_fingerprint: plan.schema_fingerprint,
    rows,
    reasons: Object.fromEntries(Object.entries(reasons).sort(([a], [b]) => (a < b ? -1 : 1))),
    rejected: null,
    outputs,
    timings_ms: { parts: plan.parts.length, slowest_part: Math.max(...parts.map((p) => p.timings_ms['total'] ?? 0)) },
  };
  await writeObject(deps.store, vaultObjects.ingestManifest.at(plan.batch), manifest);
  return manifestKey;
}
