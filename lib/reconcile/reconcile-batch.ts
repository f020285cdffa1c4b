import { contractOfBatch } from '../contract/batch-contract.ts';
import { join } from 'node:path';
import type { AlertSink } from '../alerts/alerts.ts';
import { chainLines, verifyChain } from '../audit/audit-chain.ts';
import type { DataKeyStore } from '../audit/data-keys.ts';
import type { Contract } from '../contract/contract.ts';
import { Engine } from '../engine/duckdb.ts';
import { literal } from '../engine/sql.ts';
import { DataLossError } from '../errors.ts';
import { downloadObject } from '../store/download.ts';
import type { IngestManifest } from '../vault/ingest-manifest.ts';
import { keys } from '../keys.ts';
import type { ClusterResult } from '../vault/cluster-result.ts';
import type { ClusterManifest } from '../vault/cluster-manifest.ts';
import { jsonText } from '../store/json-objects.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { auditLines } from './audit-entries.ts';
import { batchReadiness, type Ready } from './batch-readiness.ts';
import { buildReport, reportPage } from './batch-report.ts';
import { runGates } from './promotion-gates.ts';
import { type ReconcileManifest } from '../vault/reconcile-manifest.ts';
import { buildLedger, checkLedger, ledgerFailed, type LaneFiles, type LedgerCheck } from './row-ledger.ts';
import { findObject, putObjectIfAbsent, writeObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';
import { withWorkspace } from '../engine/workspace.ts';
import { firstRound, type Round } from './round.ts';
import { writeStreamProfile } from '../evidence/stream-profile.ts';
import { faultPoint } from '../faults/fault-point.ts';

/**
 * reconcile: closes a batch with a proof, once every cluster's result is in.
 * 1. Row-id reconciliation: every source row id exactly once across clean, fixed (suspect rows
 *    with all their failing cells staged, and passing the contract after the fix) and
 *    quarantined, and every staged fix, quarantined cell and audit change on the row whose
 *    `pk_hash` it carries. A missing, duplicated, unknown or mismatched id: SEV1 alert, the
 *    batch marked `data-loss`, nothing promoted, and a DataLossError.
 * 2. Promotion gates (the contract's tests as SQL) on clean + fixed: pass -> the curated Parquet;
 *    fail -> nothing promoted, the failing gates and sample row ids reported, an alert.
 * 3. The audit (hash chain, pii sealed, COMPLIANCE-locked), the report, and the manifest last.
 * Safe to run any number of times: outputs are stamped with the time of the first run, and
 * once the manifest exists nothing is done again.
 */
/** What reconcile needs: the vault, where alerts go, the data keys, scratch space and the engine's limits. */
export interface ReconcileDeps {
  store: ObjectStore;
  alerts: AlertSink;
  keys: DataKeyStore;
  workDir: string;
  engine: { memoryLimit: string; threads: number };
  auditRetentionDays: number;
  now?: () => Date;
}

/** What a reconcile invocation did with the batch. */
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
  const stamp = (deps.now ?? (() => new Date()))().toISOString();
  return (await putObjectIfAbsent(deps.store, vaultObjects.reconcileStart.at(batch), { as_of: stamp })).value.as_of;
}

/**
 * Reconciles `batch` once its cluster results are in (see above); throws DataLossError when the
 * ledger fails. `ready`: the batch's readiness when the caller has just found it (reconcileOnce).
 */
export async function reconcileBatch(deps: ReconcileDeps, batch: string, ready?: Ready): Promise<ReconcileOutcome> {
  const stored = await findObject(deps.store, vaultObjects.reconcileManifest.at(batch));
  if (stored) return { status: 'already-reconciled', batch, manifest: stored };
  const readiness = ready ?? (await batchReadiness(deps.store, batch));
  if (readiness.status === 'not-clustered') return { status: 'not-clustered', batch };
  if (readiness.status === 'waiting') return { status: 'waiting', batch, missing: readiness.missing };
  const { ingest, clusters, results } = readiness;
  const contract = await contractOfBatch(deps.store, ingest.stream, ingest.contract);
  const stamp = await asOf(
    deps,
    batch,
    results.map((r) => r.decided_at),
  );
  if (ingest.status === 'quarantined') {
    const manifest = objectQuarantinedManifest(batch, ingest.stream, stamp, ingest.rejected?.reason);
    await writeObject(deps.store, vaultObjects.reconcileManifest.at(batch), manifest);
    return { status: 'reconciled', batch, manifest };
  }
  const manifest = await reconcileRound(deps, {
    batch,
    stamp,
    contract,
    ingest,
    clusters,
    results,
    round: firstRound(ingest.stream, batch),
    commit: (m) => writeObject(deps.store, vaultObjects.reconcileManifest.at(batch), m),
  });
  return { status: 'reconciled', batch, manifest };
}

/**
 * One reconcile of a batch, revision 0 or a later one (see Round): the proof, the manifest
 * (`shape` adds a revision's fields), the report, the alerts, and last `commit` writes the
 * manifest. Throws DataLossError after committing a manifest whose ledger failed.
 */
export async function reconcileRound(
  deps: ReconcileDeps,
  c: {
    batch: string;
    stamp: string;
    contract: Contract;
    ingest: IngestManifest;
    clusters: ClusterManifest;
    results: ClusterResult[];
    round: Round;
    shape?: (manifest: ReconcileManifest) => ReconcileManifest;
    commit: (manifest: ReconcileManifest) => Promise<void>;
  },
): Promise<ReconcileManifest> {
  const { batch, ingest, clusters, results } = c;
  const started = performance.now();
  return withWorkspace(deps.workDir, 'reconcile', deps.engine, async ({ dir, engine }) => {
    const proof = await prove({ ...c, deps, engine, dir, started });
    const manifest = (c.shape ?? ((m) => m))(manifestOf(proof, clusters, results));
    proof.timings['total'] = Math.round(performance.now() - started);
    const report = buildReport(manifest, ingest, clusters, results, proof.timings);
    await deps.store.put(keys.report(batch), jsonText(report), { contentType: 'application/json' });
    await deps.store.put(keys.reportPage(batch), reportPage(report), { contentType: 'text/html; charset=utf-8' });
    // Alerts before the manifest (the commit point): a crash in between repeats them on the retry, never skips them.
    await raiseAlerts(deps, proof);
    faultPoint('reconcile:before-manifest');
    await c.commit(manifest);
    faultPoint('reconcile:after-manifest');
    if (proof.lost) throw new DataLossError(`batch ${batch}: ${ledgerProblems(proof.ledger)}`);
    return manifest;
  });
}

/** What proving a batch established: its ledger, gates, audit and curated object, with the time each phase took. */
interface Proof {
  batch: string;
  stream: string;
  stamp: string;
  suspect: number;
  ledger: LedgerCheck;
  lost: boolean;
  gates: ReconcileManifest['gates'];
  promoted: boolean;
  audit: NonNullable<ReconcileManifest['audit']>;
  curated: string | null;
  reasons: Record<string, number>;
  timings: Record<string, number>;
}

/**
 * Phases, in the engine: the lanes downloaded, the row ledger (law 5: every row id once; law 4:
 * every fix on its own record), the curated table and the gates (only when nothing was lost), the
 * audit chained and locked, and the curated Parquet promoted when every gate passed.
 */
async function prove(c: {
  round: Round;
  deps: ReconcileDeps;
  engine: Engine;
  dir: string;
  batch: string;
  stamp: string;
  contract: Contract;
  ingest: IngestManifest;
  results: ClusterResult[];
  started: number;
}): Promise<Proof> {
  const { deps, engine, batch, stamp, contract, ingest } = c;
  const stream = ingest.stream;
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => (timings[name] = Math.round(performance.now() - since));
  const lanes = await fetchLanes(deps.store, c.dir, ingest, c.results);
  faultPoint('reconcile:after-lanes');
  lap('download', c.started);
  let t = performance.now();
  await buildLedger(engine, contract, lanes);
  const source = ingest.rows?.source ?? 0;
  const ledger = await checkLedger(engine, source);
  lap('ledger', t);
  const lost = ledgerFailed(ledger);
  t = performance.now();
  // A failed ledger stops here: no curated table, no gates, nothing promoted.
  const gates = lost ? [] : await curateAndGate(engine, contract, lanes.clean, { source, quarantined: ledger.counts.quarantined });
  lap('gates', t);
  const promoted = !lost && gates.every((g) => g.passed);
  t = performance.now();
  const { round } = c;
  const touched = round.touched
    ? await Promise.all(
        round.touched.map(async (key, i) => (await downloadObject(deps.store, key, undefined, join(c.dir, `touched-${i}.parquet`))).path),
      )
    : undefined;
  const lines = await auditLines(engine, contract, {
    stream,
    batch,
    asOf: stamp,
    auditParts: lanes.auditParts,
    keys: deps.keys,
    ...(touched ? { touched } : {}),
  });
  const phases = { ...lines.timings_ms };
  const audit = await writeAudit(deps, { stream, batch, stamp, bodies: lines.bodies, round }, phases);
  // The audit's own phases beside its total: select, keys_and_drafts, seal, lines (the engine), chain, write.
  for (const [phase, ms] of Object.entries(phases)) timings[`audit_${phase}`] = ms;
  faultPoint(round.revision === 0 ? 'reconcile:after-audit' : 'revise:after-audit');
  lap('audit', t);
  t = performance.now();
  const curated = promoted ? await promoteCurated(deps.store, engine, c.dir, round) : null;
  // The first promotion adds the batch to its stream's profile (the evidence the next batches are judged by).
  if (curated && round.revision === 0)
    await writeStreamProfile(deps.store, engine, contract, { stream, batch, asOf: stamp, dir: c.dir }, 'curated');
  faultPoint('reconcile:after-curated');
  lap('curated', t);
  const counted = await engine.rows<{ reason: string; n: string }>(
    'SELECT reason, count(DISTINCT row_id) AS n FROM quarantine_reasons GROUP BY reason ORDER BY reason',
  );
  const reasons = Object.fromEntries(counted.map((r) => [r.reason, Number(r.n)]));
  return { batch, stream, stamp, suspect: ingest.rows?.suspect ?? 0, ledger, lost, gates, promoted, audit, curated, reasons, timings };
}

/** The batch's proof as its manifest. */
function manifestOf(proof: Proof, clusters: ClusterManifest, results: ClusterResult[]): ReconcileManifest {
  const { ledger } = proof;
  const modelCalls = results.reduce((sum, r) => sum + r.model_calls, 0);
  return {
    schema_version: 2,
    batch: proof.batch,
    stream: proof.stream,
    status: proof.lost ? 'data-loss' : proof.promoted ? 'promoted' : 'gates-failed',
    as_of: proof.stamp,
    rows: ledger.counts,
    ledger: {
      missing: ledger.missing,
      duplicated: ledger.duplicated,
      unexpected: ledger.unexpected,
      mismatched: ledger.mismatched,
      problems: ledger.problems,
    },
    gates: proof.gates,
    curated: proof.curated,
    audit: proof.audit,
    clusters: {
      count: results.length,
      by_disposition: count(results.map((r) => r.disposition)),
      by_tier: count(results.map((r) => r.tier)),
    },
    model_calls: { expected: clusters.expected_model_calls, actual: modelCalls },
    model_call_reduction: modelCallReduction(proof.suspect, modelCalls),
    quarantine_reasons: proof.reasons,
  };
}

/** SEV1 for a failed ledger (data loss), SEV2 for failed gates (the batch stays in staging). */
async function raiseAlerts(deps: ReconcileDeps, proof: Proof): Promise<void> {
  const { stream, batch, gates } = proof;
  if (proof.lost)
    await deps.alerts.post({
      severity: 'SEV1',
      component: 'reconcile',
      stream,
      batch,
      reason: 'data-loss',
      ...ledgerAlert(batch, proof.ledger),
    });
  if (proof.lost || proof.promoted) return;
  const failed = gates.filter((g) => !g.passed);
  const summary = `batch ${batch}: ${failed.length} promotion gate(s) failed (${failed.map((g) => g.gate).join(', ')}); the batch stays in staging`;
  await deps.alerts.post({
    severity: 'SEV2',
    component: 'reconcile',
    stream,
    batch,
    reason: 'gates-failed',
    summary,
    details: { gates: failed },
  });
}

/** The manifest of a batch whose whole object was set aside at ingest (its reason is in quarantine/<stream>/<batch>/object.json): nothing to promote. */
function objectQuarantinedManifest(batch: string, stream: string, stamp: string, reason: string | undefined): ReconcileManifest {
  return {
    schema_version: 2,
    batch,
    stream,
    status: 'object-quarantined',
    as_of: stamp,
    rows: { source: 0, clean: 0, fixed: 0, quarantined: 0 },
    ledger: {
      missing: [],
      duplicated: [],
      unexpected: [],
      mismatched: [],
      problems: { missing: 0, duplicated: 0, unexpected: 0, mismatched: 0 },
    },
    gates: [],
    curated: null,
    audit: null,
    clusters: { count: 0, by_disposition: {}, by_tier: {} },
    model_calls: { expected: 0, actual: 0 },
    model_call_reduction: 0,
    quarantine_reasons: { [reason ?? 'object-quarantined']: 1 },
  };
}

/** Downloads every lane's Parquet objects of the batch into `dir`; returns their local paths. */
async function fetchLanes(store: ObjectStore, dir: string, ingest: IngestManifest, results: ClusterResult[]): Promise<LaneFiles> {
  let n = 0;
  const fetch = (objectKeys: (string | null)[]) =>
    Promise.all(
      objectKeys
        .filter((k): k is string => k !== null)
        .map(async (k) => (await downloadObject(store, k, undefined, join(dir, `${n++}.parquet`))).path),
    );
  return {
    clean: await fetch(ingest.outputs.clean),
    suspect: await fetch(ingest.outputs.suspect),
    ingestQuarantine: await fetch(ingest.outputs.quarantine),
    staged: await fetch(results.map((r) => r.outputs.staged)),
    quarantinedCells: await fetch(results.map((r) => r.outputs.quarantine)),
    auditParts: await fetch(results.map((r) => r.outputs.audit)),
  };
}

/** 1 - model calls made / suspect rows, at least 0 (0 without suspect rows): see ReconcileManifest `model_call_reduction`. */
export function modelCallReduction(suspectRows: number, modelCalls: number): number {
  return suspectRows === 0 ? 0 : Math.max(0, 1 - modelCalls / suspectRows);
}

/** What the ledger found wrong, in one line (counts in full, ids as listed). */
function ledgerProblems(ledger: LedgerCheck): string {
  const p = ledger.problems;
  return (
    `row ids missing ${p.missing} ${JSON.stringify(ledger.missing)}, duplicated ${p.duplicated} ${JSON.stringify(ledger.duplicated)}, ` +
    `unknown ${p.unexpected} ${JSON.stringify(ledger.unexpected)}, on a fix with another pk_hash ${p.mismatched} ${JSON.stringify(ledger.mismatched)}`
  );
}

/** The SEV1 alert's summary and details for a batch whose ledger failed. */
function ledgerAlert(batch: string, ledger: LedgerCheck): { summary: string; details: Record<string, unknown> } {
  return {
    summary: `batch ${batch}: ${ledgerProblems(ledger)}; nothing promoted`,
    details: {
      missing: ledger.missing,
      duplicated: ledger.duplicated,
      unexpected: ledger.unexpected,
      mismatched: ledger.mismatched,
      problems: ledger.problems,
      counts: ledger.counts,
    },
  };
}

/** Table `curated` (clean + fixed rows, by row id) and the promotion gates run on it. */
async function curateAndGate(
  engine: Engine,
  contract: Contract,
  clean: string[],
  counts: { source: number; quarantined: number },
): Promise<ReconcileManifest['gates']> {
  const cleanRows = clean.length ? `SELECT * FROM read_parquet([${clean.map(literal).join(', ')}]) UNION ALL BY NAME ` : '';
  await engine.run(`CREATE OR REPLACE TABLE curated AS SELECT * FROM (${cleanRows}SELECT * FROM fixed_typed) ORDER BY row_id`);
  return runGates(engine, contract, counts);
}

/**
 * Chains the prepared lines and writes the batch's audit, COMPLIANCE-locked until `stamp` + the
 * retention. The audit is locked: a re-run after a crash finds it written and leaves it as it is;
 * the manifest then records what the store holds (its first version), never a recomputed root.
 * `timings` gets the time of the chain and of the write.
 */
async function writeAudit(
  deps: ReconcileDeps,
  a: { stream: string; batch: string; stamp: string; bodies: string[]; round: Round },
  timings: Record<string, number>,
): Promise<NonNullable<ReconcileManifest['audit']>> {
  const { stream, batch, stamp, round } = a;
  let t = performance.now();
  const chained = chainLines(stream, batch, a.bodies, round.chainedTo);
  timings['chain'] = Math.round(performance.now() - t);
  t = performance.now();
  const retainUntil = new Date(Date.parse(stamp) + deps.auditRetentionDays * 86_400_000);
  const key = round.auditKey;
  const stored = await deps.store.versions(key);
  let audit = { lines: chained.lines, root: chained.root };
  if (stored.length === 0) {
    await deps.store.put(key, chained.text, { contentType: 'application/x-ndjson', retainUntil });
  } else {
    const held = verifyChain(stream, batch, await deps.store.readText(key, stored[0]!.versionId), undefined, round.chainedTo);
    audit = { lines: held.lines, root: held.root };
  }
  timings['write'] = Math.round(performance.now() - t);
  return { key, lines: audit.lines, root_hash: audit.root, retain_until: retainUntil.toISOString() };
}

/**
 * Writes table `curated` as the round's curated Parquet, less the rows an earlier revision's part
 * holds (each row in exactly one part); returns its key, or null when no row is new.
 */
async function promoteCurated(store: ObjectStore, engine: Engine, dir: string, round: Round): Promise<string | null> {
  const local = join(dir, 'curated.parquet');
  const earlier = await Promise.all(
    round.promotedParts.map(async (key, i) => (await downloadObject(store, key, undefined, join(dir, `promoted-${i}.parquet`))).path),
  );
  const fresh = earlier.length
    ? `SELECT * FROM curated ANTI JOIN (SELECT row_id FROM read_parquet([${earlier.map(literal).join(', ')}])) USING (row_id)`
    : 'SELECT * FROM curated';
  const [counted] = await engine.rows<{ n: string }>(`SELECT count(*) AS n FROM (${fresh})`);
  if (earlier.length && Number(counted?.n ?? 0) === 0) return null;
  await engine.run(`COPY (${fresh} ORDER BY row_id) TO ${literal(local)} (FORMAT parquet)`);
  await store.putFile(round.curatedKey, local, { contentType: 'application/vnd.apache.parquet' });
  return round.curatedKey;
}
