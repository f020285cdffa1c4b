import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertSink } from '../alerts/alerts.ts';
import { chainEntries, verifyChain } from '../audit/audit-chain.ts';
import type { DataKeyStore } from '../audit/data-keys.ts';
import { loadContract } from '../contract/registry.ts';
import { Engine } from '../engine/duckdb.ts';
import { DataLossError } from '../errors.ts';
import { downloadObject } from '../ingest/download.ts';
import { keys } from '../keys.ts';
import { ContractMissingError } from '../remediate/remediate-cluster.ts';
import { jsonText } from '../store/json-objects.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { auditEntries } from './audit-entries.ts';
import { batchReadiness } from './batch-readiness.ts';
import { buildReport, reportPage } from './batch-report.ts';
import { runGates } from './promotion-gates.ts';
import { ReconcileManifestSchema, serialiseReconcileManifest, type ReconcileManifest } from './reconcile-manifest.ts';
import { buildLedger, checkLedger } from './row-ledger.ts';

/**
 * reconcile: closes a batch with a proof, once every cluster's result is in.
 * 1. Row-id reconciliation: every source row id exactly once across clean, fixed (suspect rows
 *    with all their failing cells staged, and passing the contract after the fix) and
 *    quarantined. A missing, duplicated or unknown id: SEV1 alert, the batch marked
 *    `data-loss`, nothing promoted, and a DataLossError.
 * 2. Promotion gates (the contract's tests as SQL) on clean + fixed: pass -> the curated Parquet;
 *    fail -> nothing promoted, the failing gates and sample row ids reported, an alert.
 * 3. The audit (hash chain, pii sealed, COMPLIANCE-locked), the report, and the manifest last.
 * Safe to run any number of times: outputs are stamped with the time of the first run, and
 * once the manifest exists nothing is done again.
 */
export interface ReconcileDeps {
  store: ObjectStore;
  alerts: AlertSink;
  keys: DataKeyStore;
  workDir: string;
  engine: { memoryLimit: string; threads: number };
  auditRetentionDays: number;
  now?: () => Date;
}

export type ReconcileOutcome =
  | { status: 'waiting'; batch: string; missing: string[] }
  | { status: 'not-clustered'; batch: string }
  | { status: 'already-reconciled'; batch: string; manifest: ReconcileManifest }
  | { status: 'reconciled'; batch: string; manifest: ReconcileManifest };

const count = (values: string[]) => values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});

/**
 * The time a batch's outputs are stamped with: the last remediation decision's, so that two
 * reconcile invocations racing on the same batch (two results landing at once) write the same
 * bytes; a batch without clusters takes the time of its first reconcile run, kept in the vault.
 */
async function asOf(deps: ReconcileDeps, batch: string, decidedAt: string[]): Promise<string> {
  if (decidedAt.length) return [...decidedAt].sort().at(-1)!;
  const key = keys.reconcileStart(batch);
  if (await deps.store.exists(key)) return (JSON.parse(await deps.store.readText(key)) as { as_of: string }).as_of;
  const stamp = (deps.now ?? (() => new Date()))().toISOString();
  await deps.store.put(key, jsonText({ as_of: stamp }), { contentType: 'application/json' });
  return stamp;
}

export async function reconcileBatch(deps: ReconcileDeps, batch: string): Promise<ReconcileOutcome> {
  const manifestKey = keys.reconcileManifest(batch);
  if (await deps.store.exists(manifestKey)) {
    return { status: 'already-reconciled', batch, manifest: ReconcileManifestSchema.parse(JSON.parse(await deps.store.readText(manifestKey))) };
  }
  const readiness = await batchReadiness(deps.store, batch);
  if (readiness.status === 'not-clustered') return { status: 'not-clustered', batch };
  if (readiness.status === 'waiting') return { status: 'waiting', batch, missing: readiness.missing };
  const { ingest, clusters, results } = readiness;
  const stream = ingest.stream;
  const registered = await loadContract(deps.store, stream);
  if (!registered) throw new ContractMissingError(stream);
  const contract = registered.contract;
  const stamp = await asOf(deps, batch, results.map((r) => r.decided_at));
  if (ingest.status === 'quarantined') {
    // The whole object was set aside at ingest (its reason is in quarantine/<stream>/<batch>/object.json): nothing to promote.
    const manifest: ReconcileManifest = {
      schema_version: 1, batch, stream, status: 'object-quarantined', as_of: stamp, rows: { source: 0, clean: 0, fixed: 0, quarantined: 0 },
      ledger: { missing: [], duplicated: [], unexpected: [], problems: { missing: 0, duplicated: 0, unexpected: 0 } }, gates: [], curated: null, audit: null,
      clusters: { count: 0, by_disposition: {}, by_tier: {} }, model_calls: { expected: 0, actual: 0 }, reduction: 0,
      quarantine_reasons: { [ingest.rejected?.reason ?? 'object-quarantined']: 1 },
    };
    await deps.store.put(manifestKey, serialiseReconcileManifest(manifest), { contentType: 'application/json' });
    return { status: 'reconciled', batch, manifest };
  }
  const timings: Record<string, number> = {};
  const started = performance.now();

  const dir = join(deps.workDir, `reconcile-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  const engine = await Engine.open({ ...deps.engine, spillDir: join(dir, 'spill') });
  try {
    let n = 0;
    const fetch = (objectKeys: (string | null)[]) =>
      Promise.all(objectKeys.filter((k): k is string => k !== null).map(async (k) => (await downloadObject(deps.store, k, undefined, join(dir, `${n++}.parquet`))).path));
    const lanes = {
      clean: await fetch(ingest.outputs.clean),
      suspect: await fetch(ingest.outputs.suspect),
      ingestQuarantine: await fetch(ingest.outputs.quarantine),
      staged: await fetch(results.map((r) => r.outputs.staged)),
      quarantinedCells: await fetch(results.map((r) => r.outputs.quarantine)),
    };
    const auditParts = await fetch(results.map((r) => r.outputs.audit));
    timings['download'] = Math.round(performance.now() - started);

    let t = performance.now();
    await buildLedger(engine, contract, lanes);
    const source = ingest.rows?.source ?? 0;
    const ledger = await checkLedger(engine, source);
    timings['ledger'] = Math.round(performance.now() - t);
    const lost = ledger.problems.missing + ledger.problems.duplicated + ledger.problems.unexpected > 0;

    t = performance.now();
    let gates: ReconcileManifest['gates'] = [];
    if (!lost) {
      await engine.run(`CREATE OR REPLACE TABLE curated AS
        SELECT * FROM (${lanes.clean.length ? `SELECT * FROM read_parquet([${lanes.clean.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ')}]) UNION ALL BY NAME ` : ''}SELECT * FROM fixed_typed)
        ORDER BY row_id`);
      gates = await runGates(engine, contract, { source, quarantined: ledger.counts.quarantined });
    }
    timings['gates'] = Math.round(performance.now() - t);
    const promoted = !lost && gates.every((g) => g.passed);

    t = performance.now();
    const entries = await auditEntries(engine, contract, { stream, batch, asOf: stamp, auditParts, keys: deps.keys });
    const chained = chainEntries(stream, batch, entries);
    const retainUntil = new Date(Date.parse(stamp) + deps.auditRetentionDays * 86_400_000);
    const auditKey = keys.audit(stream, batch);
    let audit = { lines: chained.lines, root: chained.root };
    // The audit is locked: a re-run after a crash finds it written and leaves it as it is; the
    // manifest then records what the store holds (its first version), never a recomputed root.
    const stored = await deps.store.versions(auditKey);
    if (stored.length === 0) {
      await deps.store.put(auditKey, chained.text, { contentType: 'application/x-ndjson', retainUntil });
    } else {
      const held = verifyChain(stream, batch, await deps.store.readText(auditKey, stored[0]!.versionId));
      audit = { lines: held.lines, root: held.root };
    }
    timings['audit'] = Math.round(performance.now() - t);

    let curated: string | null = null;
    if (promoted) {
      curated = keys.curated(stream, batch);
      const local = join(dir, 'curated.parquet');
      await engine.run(`COPY (SELECT * FROM curated ORDER BY row_id) TO '${local.replace(/'/g, "''")}' (FORMAT parquet)`);
      await deps.store.putFile(curated, local, { contentType: 'application/vnd.apache.parquet' });
    }
    const reasons = await engine.rows<{ reason: string; n: string }>(
      'SELECT reason, count(DISTINCT row_id) AS n FROM quarantine_reasons GROUP BY reason ORDER BY reason',
    );
    const modelCalls = results.reduce((sum, r) => sum + r.model_calls, 0);
    const suspect = ingest.rows?.suspect ?? 0;
    const manifest: ReconcileManifest = {
      schema_version: 1, batch, stream,
      status: lost ? 'data-loss' : promoted ? 'promoted' : 'gates-failed',
      as_of: stamp,
      rows: ledger.counts,
      ledger: { missing: ledger.missing, duplicated: ledger.duplicated, unexpected: ledger.unexpected, problems: ledger.problems },
      gates,
      curated,
      audit: { key: auditKey, lines: audit.lines, root_hash: audit.root, retain_until: retainUntil.toISOString() },
      clusters: { count: results.length, by_disposition: count(results.map((r) => r.disposition)), by_tier: count(results.map((r) => r.tier)) },
      model_calls: { expected: clusters.expected_model_calls, actual: modelCalls },
      reduction: suspect === 0 ? 0 : Math.max(0, 1 - modelCalls / suspect),
      quarantine_reasons: Object.fromEntries(reasons.map((r) => [r.reason, Number(r.n)])),
    };
    timings['total'] = Math.round(performance.now() - started);
    const report = buildReport(manifest, ingest, clusters, results, timings);
    await deps.store.put(keys.report(batch), jsonText(report), { contentType: 'application/json' });
    await deps.store.put(keys.reportPage(batch), reportPage(report), { contentType: 'text/html; charset=utf-8' });
    // Alerts before the manifest (the commit point): a crash in between repeats them on the retry, never skips them.
    if (lost) {
      await deps.alerts.post({
        severity: 'SEV1', component: 'reconcile', stream, batch, reason: 'data-loss',
        summary: `batch ${batch}: ${ledger.problems.missing} row id(s) missing, ${ledger.problems.duplicated} duplicated, ${ledger.problems.unexpected} unknown; nothing promoted`,
        details: { missing: ledger.missing, duplicated: ledger.duplicated, unexpected: ledger.unexpected, counts: ledger.counts },
      });
    }
    if (!lost && !promoted) {
      const failed = gates.filter((g) => !g.passed);
      await deps.alerts.post({
        severity: 'SEV2', component: 'reconcile', stream, batch, reason: 'gates-failed',
        summary: `batch ${batch}: ${failed.length} promotion gate(s) failed (${failed.map((g) => g.gate).join(', ')}); the batch stays in staging`,
        details: { gates: failed },
      });
    }
    await deps.store.put(manifestKey, serialiseReconcileManifest(manifest), { contentType: 'application/json' });
    if (lost) {
      throw new DataLossError(`batch ${batch}: row ids missing ${JSON.stringify(ledger.missing)}, duplicated ${JSON.stringify(ledger.duplicated)}, unknown ${JSON.stringify(ledger.unexpected)}`);
    }
    return { status: 'reconciled', batch, manifest };
  } finally {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
