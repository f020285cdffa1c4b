import type { Column, Contract } from '../contract/contract.ts';
import type { ClusterSpec } from '../vault/cluster-spec.ts';
import { DataLossError } from '../errors.ts';
import { parseClusterKey } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { applyDecision, type Applied } from './apply-decision.ts';
import { type ClusterResult } from '../vault/cluster-result.ts';
import type { Decision } from '../vault/decision.ts';
import { decide, storedDecision, storeDecision, type Decided } from './decide-remediation.ts';
import { patternSignature, register } from './function-registry.ts';
import { measure, type MeasureDeps } from './measure.ts';
import type { ModelAccess } from './model/model-access.ts';
import type { PatternTable } from './pattern-table.ts';
import type { Sandbox } from './sandbox.ts';
import { claimScopes, DEFAULT_LEASE_MS, withClaim } from '../vault/claims.ts';
import { findObject, writeObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';
import { withCluster } from './with-cluster.ts';
import { faultPoint } from '../faults/fault-point.ts';
import { candidateOf } from './candidate.ts';

/**
 * remediate: one cluster -> a verified transformation function applied to all its cells.
 * Reads `work/<batch>/clusters/<cluster>.json` and its cells; decides (registry, synthesizer,
 * model, review); writes staged cells, quarantined cells and audit rows; and last the result
 * `results/<batch>/<cluster>.json`, which tells reconcile this cluster is done. A cluster
 * whose result exists is not done again.
 */
export interface RemediateDeps {
  store: ObjectStore;
  workDir: string;
  engine: { memoryLimit: string; threads: number };
  sandbox: Sandbox;
  /** How long this invocation's claim on the cluster holds before another delivery may take it over (default: DEFAULT_LEASE_MS). */
  leaseMs?: number;
  /** Confidence at or above which a function is applied (default 0.75). */
  threshold: number;
  /** The model tier; undefined when no model host is configured. */
  model: ModelAccess | undefined;
  now?: () => Date;
  notice?: (message: string, fields: Record<string, unknown>) => void;
}

export type RemediateOutcome =
  | { status: 'remediated' | 'already-remediated'; result: ClusterResult }
  | { status: 'claimed-elsewhere'; batch: string; cluster: string; holder: string; lease_until: string };

/** The cluster result of an outcome; a delivery that found the cluster claimed elsewhere has none (an error that says so). */
export function settledResult(outcome: RemediateOutcome): ClusterResult {
  if (outcome.status === 'claimed-elsewhere')
    throw new Error(`cluster ${outcome.cluster} is held by ${outcome.holder} until ${outcome.lease_until}`);
  return outcome.result;
}

export async function remediateCluster(deps: RemediateDeps, clusterKey: string): Promise<RemediateOutcome> {
  const { batch, cluster } = parseClusterKey(clusterKey);
  const done = await findObject(deps.store, vaultObjects.clusterResult.at(batch, cluster));
  if (done) return { status: 'already-remediated', result: done };
  // Once only: of any number of deliveries of this cluster, one holds it; the rest exit here.
  const claimed = await withClaim(deps.store, claimScopes.remediate(batch, cluster), { leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS }, () =>
    remediateClaimed(deps, batch, cluster),
  );
  if (!claimed.held) return { status: 'claimed-elsewhere', batch, cluster, holder: claimed.by.holder, lease_until: claimed.by.lease_until };
  return claimed.value;
}

/** What the phases of one remediation share. */
interface Remediation {
  deps: RemediateDeps;
  batch: string;
  cluster: string;
  spec: ClusterSpec;
  contract: Contract;
  /** The contract column of the cluster; undefined for a pattern over several columns or a whole row. */
  column: Column | undefined;
  dir: string;
  pattern: PatternTable;
  measureDeps: MeasureDeps;
  now: () => Date;
}

/**
 * The claimed cluster, in phases: load the pattern, take the decision (or the stored one), apply
 * it to every cell, register a measured function, and write the result last.
 */
async function remediateClaimed(deps: RemediateDeps, batch: string, cluster: string): Promise<RemediateOutcome> {
  faultPoint('remediate:after-claim');
  // A holder whose lease ran out may have finished after all: its result stands.
  const done = await findObject(deps.store, vaultObjects.clusterResult.at(batch, cluster));
  if (done) return { status: 'already-remediated', result: done };
  return withCluster(deps, batch, cluster, 'remediate', async (open) => {
    const { spec, contract, engine, dir, pattern } = open;
    const r: Remediation = {
      deps,
      batch,
      cluster,
      spec,
      contract,
      column: open.contractColumn,
      dir,
      pattern,
      measureDeps: open.measureDeps,
      now: deps.now ?? (() => new Date()),
    };
    const { decision, measurement } = await takeDecision(r);
    faultPoint('remediate:after-decision');
    const applied = await applyDecision(engine, deps.store, dir, spec, pattern, decision, measurement);
    faultPoint('remediate:after-staged');
    if (applied.counts.cells !== spec.cells) {
      throw new DataLossError(`cluster ${cluster}: ${applied.counts.cells} cells applied, the cluster holds ${spec.cells}`);
    }
    await registerMeasured(r, decision);
    const result = clusterResult(r, decision, measurement, applied);
    faultPoint('remediate:before-result');
    // Last: its arrival tells reconcile this cluster is done.
    await writeObject(deps.store, vaultObjects.clusterResult.at(batch, cluster), result);
    faultPoint('remediate:after-result');
    return { status: 'remediated', result };
  });
}

/**
 * Phase: the decision. A retry, or a delivery that lost the race to store one, takes the stored
 * (first) decision and measures its function again (deterministic: the same outputs).
 */
async function takeDecision(r: Remediation): Promise<Decided> {
  const stored = await storedDecision(r.deps.store, r.batch, r.cluster);
  if (stored) return remeasure(r, stored);
  const decided = r.column
    ? await decide(
        {
          ...r.measureDeps,
          store: r.deps.store,
          threshold: r.deps.threshold,
          model: r.deps.model,
          now: r.now,
          notice: r.deps.notice ?? (() => {}),
        },
        r.spec,
        r.pattern,
      )
    : notOneColumn(r);
  const standing = await storeDecision(r.deps.store, r.batch, r.cluster, decided.decision);
  return standing === decided.decision ? decided : remeasure(r, standing);
}

/** A stored decision with its function measured again on the cluster. */
async function remeasure(r: Remediation, standing: Decision): Promise<Decided> {
  const fn = standing.function;
  if (!fn) return { decision: standing, measurement: undefined };
  const candidate = candidateOf(fn);
  return { decision: standing, measurement: await measure(r.measureDeps, r.pattern, candidate) };
}

/** A pattern that is not about one column's value (a unique or expression test) goes to review. */
function notOneColumn(r: Remediation): Decided {
  const reason = `${r.spec.column}:${r.spec.rule} is not about one column's value`;
  const decision: Decision = {
    schema_version: 1,
    tier: 'review',
    disposition: 'needs-review',
    function: null,
    confidence: 0,
    model: null,
    model_calls: 0,
    reason,
    tried: [],
    rounds: [],
    decided_at: r.now().toISOString(),
  };
  return { decision, measurement: undefined };
}

/** Phase: a function the synthesizer or the model made, applied at or above the threshold, joins the registry. */
async function registerMeasured(r: Remediation, decision: Decision): Promise<void> {
  if (!decision.function || (decision.tier !== 'synthesizer' && decision.tier !== 'model')) return;
  // An evidence function's table is this batch's evidence: the next batch brings its own.
  if (decision.function.lookup) return;
  const { spec, batch, cluster } = r;
  const shapes = spec.shapes.map((s) => s.shape);
  const origin = { tier: decision.tier, batch, cluster, confidence: decision.confidence, model: decision.model?.name ?? null };
  await register(r.deps.store, patternSignature(spec.column, spec.rule, shapes), {
    schema_version: 1,
    stream: spec.stream,
    column: spec.column,
    rule: spec.rule,
    shapes,
    function: decision.function,
    approved_by: 'measured',
    origin,
  });
}

/** Phase: the cluster's result (disposition, tier, function, measurement, counts, evidence, outputs). */
function clusterResult(r: Remediation, decision: Decision, measurement: Decided['measurement'], applied: Applied): ClusterResult {
  const { spec } = r;
  const fixed = applied.counts.quarantined_cells === 0 ? 'fixed' : 'partly-fixed';
  const measured = {
    cells: measurement?.cells ?? spec.cells,
    passed: measurement?.passed ?? 0,
    pass_rate: measurement?.pass_rate ?? 0,
    failures: measurement?.failures ?? {},
    ...(decision.ambiguous_with ? { ambiguous_with: decision.ambiguous_with } : {}),
  };
  return {
    schema_version: 1,
    batch: r.batch,
    stream: spec.stream,
    cluster: r.cluster,
    column: spec.column,
    rule: spec.rule,
    disposition: decision.disposition === 'fix' ? fixed : decision.disposition,
    tier: decision.tier,
    function: decision.function,
    confidence: decision.confidence,
    threshold: r.deps.threshold,
    model: decision.model,
    model_calls: decision.model_calls,
    measured,
    counts: applied.counts,
    reason: decision.reason,
    evidence: {
      tried: decision.tried,
      rounds: decision.rounds,
      examples: applied.examples,
      ...(decision.dependency ? { dependency: decision.dependency } : {}),
    },
    outputs: applied.outputs,
    decided_at: decision.decided_at,
  };
}
