import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { keys } from '../../lib/keys.ts';
import { reconcileBatch } from '../../lib/reconcile/reconcile-batch.ts';
import { rollbackBatch } from '../../lib/reconcile/rollback.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { ENGINE, ingestAndCluster } from '../support/local-batch.ts';
import { writeBenchResult } from './bench-files.ts';

/**
 * bench:reconcile — the reconcile step on a large batch: 200,000 rows of the example orders
 * contract (pii `customer` and `email`) taken through the real ingest, cluster and remediate
 * steps (synthesizer tier, no model) on a local-directory vault, with about 10,000 fixed pii
 * cells (e-mails in angle brackets), about 2,000 fixed amounts and a few hundred rows that
 * stay quarantined. The reconcile step then runs in a fresh process (its time and peak RSS
 * its own) with its phase timings, and its outputs are checked: the audit verifies, every row
 * is in one lane, one audit line per changed cell, rollback reads every line back.
 * A second fresh process reconciles a copy of the same batch on the same vault behind a network's
 * round trip (BENCH_STORE_RTT_MS per store call, default 10, at most 32 calls in flight as the S3
 * client's socket pool allows; 0 skips it): what the per-record data keys cost against S3.
 * Target: <= 15 s. BENCH_ROWS overrides the row count (a quick run). Results:
 * tests/bench/results/reconcile.json.
 */
const ROWS = Number(process.env['BENCH_ROWS'] ?? 200_000);
/** Every 20th row: a pii e-mail the synthesizer fixes (`<user@example.org>`): 10,000 of 200,000. */
const PII_EVERY = 20;
/** Every 97th row (not a pii one): an amount with its currency, a non-pii fix. */
const AMOUNT_EVERY = 97;
/** Every 499th row (neither): an empty customer, which no tier can fix: quarantined. */
const EMPTY_EVERY = 499;
const TARGET_S = 15;
const STORE_RTT_MS = Number(process.env['BENCH_STORE_RTT_MS'] ?? 10);
/** The S3 client's sockets (DEFAULT_S3_MAX_SOCKETS): calls beyond them wait for one. */
const STORE_IN_FLIGHT = 32;
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');

/** The generated orders file and how many cells of each kind it breaks. */
function ordersCsv(rows: number): { text: string; pii: number; amounts: number; empty: number } {
  const lines = ['order_id,customer,email,amount,ordered_at,note'];
  let pii = 0;
  let amounts = 0;
  let empty = 0;
  for (let i = 1; i <= rows; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const month = String((i % 12) + 1).padStart(2, '0');
    let customer = `Customer ${i % 5000}`;
    let email = `user${i}@example.org`;
    let amount = (((i * 7919) % 100_000) / 100).toFixed(2);
    if (i % PII_EVERY === 0) {
      email = `<${email}>`;
      pii++;
    } else if (i % AMOUNT_EVERY === 0) {
      amount = `${amount} USD`;
      amounts++;
    } else if (i % EMPTY_EVERY === 0) {
      customer = '';
      empty++;
    }
    lines.push(`${i},${customer},${email},${amount},2026-${month}-${day},"note, ${i % 97}"`);
  }
  return { text: `${lines.join('\n')}\n`, pii, amounts, empty };
}

/**
 * A store behind a network: every call waits `rttMs` before it reaches the vault, and at most
 * STORE_IN_FLIGHT calls are out at once (the rest queue, as requests do for the S3 client's sockets).
 */
function behindRoundTrips(inner: ObjectStore, rttMs: number): ObjectStore {
  let out = 0;
  const queue: (() => void)[] = [];
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    if (out >= STORE_IN_FLIGHT) await new Promise<void>((resolve) => queue.push(resolve));
    out++;
    try {
      await new Promise((resolve) => setTimeout(resolve, rttMs));
      return await work();
    } finally {
      out--;
      queue.shift()?.();
    }
  };
  return {
    read: (key, versionId) => call(() => inner.read(key, versionId)),
    readText: (key, versionId) => call(() => inner.readText(key, versionId)),
    put: (key, body, options) => call(() => inner.put(key, body, options)),
    putIfAbsent: (key, body, options) => call(() => inner.putIfAbsent(key, body, options)),
    readFirst: (key) => call(() => inner.readFirst(key)),
    putFile: (key, path, options) => call(() => inner.putFile(key, path, options)),
    exists: (key) => call(() => inner.exists(key)),
    list: (prefix) => call(() => inner.list(prefix)),
    remove: (key) => call(() => inner.remove(key)),
    modifiedAt: (key) => call(() => inner.modifiedAt(key)),
    retention: (key, versionId) => call(() => inner.retention(key, versionId)),
    versions: (key) => call(() => inner.versions(key)),
    removeAllVersions: (key) => call(() => inner.removeAllVersions(key)),
    replay: (key, versionId) => call(() => inner.replay(key, versionId)),
  };
}

/** The reconcile step alone, in this (fresh) process: its outcome, phase timings and peak RSS. */
async function runReconcile(root: string, workDir: string, batch: string, rttMs: number): Promise<Record<string, unknown>> {
  const vault = new FileObjectStore(root);
  const store = rttMs > 0 ? behindRoundTrips(vault, rttMs) : vault;
  const deps = {
    store,
    alerts: new LogAlertSink(() => {}),
    keys: new VaultKeyStore(store),
    workDir,
    engine: ENGINE,
    auditRetentionDays: 1,
  };
  const started = performance.now();
  const outcome = await reconcileBatch(deps, batch);
  const seconds = (performance.now() - started) / 1000;
  if (outcome.status !== 'reconciled') throw new Error(`bench batch was not reconciled: ${outcome.status}`);
  const report = JSON.parse(await vault.readText(keys.report(batch))) as { timings_ms: { reconcile: Record<string, number> } };
  return {
    seconds,
    status: outcome.manifest.status,
    rows: outcome.manifest.rows,
    audit_lines: outcome.manifest.audit?.lines ?? 0,
    root_hash: outcome.manifest.audit?.root_hash ?? null,
    timings_ms: report.timings_ms.reconcile,
  };
}

/** Runs the reconcile step in a fresh process (Node 24 with tsx) and returns its report with its peak RSS. */
function child(
  root: string,
  workDir: string,
  batch: string,
  rttMs = 0,
): Record<string, unknown> & { seconds: number; peak_rss_mb: number } {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), 'reconcile', root, workDir, batch, String(rttMs)];
  const stdout = execFileSync(process.execPath, args, {
    cwd: repo,
    timeout: 900_000,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} ${process.env['BENCH_NODE_OPTIONS'] ?? ''}`.trim() },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'reconcile') {
    const report = await runReconcile(args[0]!, args[1]!, args[2]!, Number(args[3] ?? 0));
    const peak = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(`${JSON.stringify({ ...report, peak_rss_mb: Math.round(peak) })}\n`);
    return;
  }

  const contract = JSON.parse(readFileSync(join(repo, 'infra/contracts/orders.json'), 'utf8'));
  const file = ordersCsv(ROWS);
  let t = performance.now();
  const batch = await ingestAndCluster(contract, 'orders', file.text, 'bench.csv');
  const prepared: Record<string, number> = { ingest_and_cluster: Math.round(performance.now() - t) };
  try {
    t = performance.now();
    const sandbox = new Sandbox();
    const remediated: Record<string, number> = {};
    try {
      for (const spec of batch.clusters) {
        const outcome = await remediateCluster(
          { store: batch.store, workDir: batch.workDir, engine: ENGINE, sandbox, threshold: 0.75, model: undefined },
          keys.cluster(batch.batch, spec.cluster),
        );
        const result = outcome.status === 'claimed-elsewhere' ? undefined : outcome.result;
        const name = `${spec.column ?? 'row'}:${result?.disposition ?? outcome.status}`;
        remediated[name] = (remediated[name] ?? 0) + spec.cells;
      }
    } finally {
      sandbox.dispose();
    }
    prepared['remediate'] = Math.round(performance.now() - t);

    // The same batch, not yet reconciled, for the run behind round trips.
    const copy = join(batch.root, '..', 'vault-rtt');
    if (STORE_RTT_MS > 0) cpSync(batch.root, copy, { recursive: true });
    const ours = child(batch.root, batch.workDir, batch.batch);
    const remote = STORE_RTT_MS > 0 ? child(copy, batch.workDir, batch.batch, STORE_RTT_MS) : undefined;

    // The outputs still mean what they meant: the chain verifies, rollback reads every changed cell back.
    const verdict = await verifyBatchAudit(batch.store, batch.batch);
    t = performance.now();
    const rolled = await rollbackBatch(
      { store: batch.store, keys: new VaultKeyStore(batch.store), workDir: batch.workDir, engine: ENGINE },
      batch.batch,
    );
    const rollbackMs = Math.round(performance.now() - t);
    const rows = ours['rows'] as { source: number; clean: number; fixed: number; quarantined: number };
    const changedCells = rolled.reverted_cells + rolled.erased_cells;
    const checks = {
      status: ours['status'],
      audit_verifies: verdict.ok,
      every_row_once: rows.source === ROWS && rows.clean + rows.fixed + rows.quarantined === ROWS,
      audit_lines: ours['audit_lines'],
      changed_cells: changedCells,
      quarantined_rows: rows.quarantined,
      one_line_per_changed_cell_or_quarantined_row: ours['audit_lines'] === changedCells + rows.quarantined,
      rollback: { rows: rolled.rows, reverted_cells: rolled.reverted_cells, erased_cells: rolled.erased_cells, ms: rollbackMs },
    };
    if (!verdict.ok || !checks.every_row_once || !checks.one_line_per_changed_cell_or_quarantined_row)
      throw new Error(`reconcile outputs failed their checks: ${JSON.stringify(checks)}`);

    writeBenchResult('reconcile', {
      bench: 'reconcile',
      rows: ROWS,
      broken: { pii_emails: file.pii, amounts: file.amounts, empty_customers: file.empty },
      clusters: { count: batch.clusters.length, cells_by_column_and_disposition: remediated },
      seconds: round(ours.seconds),
      peak_rss_mb: ours.peak_rss_mb,
      timings_ms: ours['timings_ms'],
      root_hash: ours['root_hash'],
      checks,
      ...(remote
        ? {
            behind_round_trips: {
              store_rtt_ms: STORE_RTT_MS,
              in_flight: STORE_IN_FLIGHT,
              seconds: round(remote.seconds),
              status: remote['status'],
              audit_lines: remote['audit_lines'],
              timings_ms: remote['timings_ms'],
            },
          }
        : {}),
      preparation_ms: prepared,
      engine: ENGINE,
      target_seconds: TARGET_S,
      // Both: on the local vault, and behind the store's round trips (the case of the issue: 235 s).
      target_met: ours.seconds <= TARGET_S && (remote === undefined || remote.seconds <= TARGET_S),
      machine: { cpus: cpus().length, node: process.version },
      measured_at: new Date().toISOString(),
    });
  } finally {
    batch.cleanup();
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
