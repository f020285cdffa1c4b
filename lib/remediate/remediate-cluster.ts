import { loadContract } from '../contract/registry.ts';
import { ContractMissingError, DataLossError } from '../errors.ts';
import { keys, parseClusterKey } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { applyDecision } from './apply-decision.ts';
import { type ClusterResult } from '../vault/cluster-result.ts';
import { decide, storedDecision, storeDecision, type Decided, type Decision } from './decide-remediation.ts';
import { patternSignature, register } from './function-registry.ts';
import { measure } from './measure.ts';
import type { ModelAccess } from './model/model-access.ts';
import { PatternTable } from './pattern-table.ts';
import type { Sandbox } from './sandbox.ts';
import { DEFAULT_LEASE_MS, withClaim } from '../vault/claims.ts';
import { readObject, writeObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';
import { withWorkspace } from '../engine/workspace.ts';

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
  const resultKey = keys.clusterResult(batch, cluster);
  if (await deps.store.exists(resultKey)) {
    return { status: 'already-remediated', result: await readObject(deps.store, vaultObjects.clusterResult.at(batch, cluster)) };
  }
  // Once only: of any number of deliveries of this cluster, one holds it; the rest exit here.
  const claimed = await withClaim(deps.store, `${batch}/remediate/${cluster}`, { leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS }, () =>
    remediateClaimed(deps, clusterKey, batch, cluster),
  );
  if (!claimed.held) return { status: 'claimed-elsewhere', batch, cluster, holder: claimed.by.holder, lease_until: claimed.by.lease_until };
  return claimed.value;
}

async function remediateClaimed(deps: RemediateDeps, clusterKey: string, batch: string, cluster: string): Promise<RemediateOutcome> {
  const resultKey = keys.clusterResult(batch, cluster);
  // A holder whose lease ran out may have finished after all: its result stands.
  if (await deps.store.exists(resultKey)) {
    return { status: 'already-remediated', result: await readObject(deps.store, vaultObjects.clusterResult.at(batch, cluster)) };
  }
  const spec = await readObject(deps.store, vaultObjects.cluster.at(batch, cluster));
  const registered = await loadContract(deps.store, spec.stream);
  if (!registered) throw new ContractMissingError(spec.stream);
  const contract = registered.contract;
  const column = contract.columns.find((c) => c.name === spec.column);

  return withWorkspace(deps.workDir, 'remediate', deps.engine, async ({ dir, engine }) => {
    // A pattern over several columns or a whole row (a unique or expression test) has no one column to fix.
    const pattern = await PatternTable.load(
      engine,
      deps.store,
      dir,
      batch,
      contract,
      column ?? { name: spec.column, type: 'string', nullable: true, primary_key: false, pii: spec.pii },
      spec.cells_object,
    );
    const measureDeps = { engine, sandbox: deps.sandbox, contract };
    const now = deps.now ?? (() => new Date());
    // A retry, or a delivery that lost the race to store a decision: the first decision stands,
    // and its function is measured again (deterministic), which gives the same outputs.
    const remeasure = async (standing: Decision): Promise<Decided> => {
      const fn = standing.function;
      return {
        decision: standing,
        measurement: fn
          ? await measure(measureDeps, pattern, {
              name: fn.name,
              source: fn.source,
              ...(fn.reads.length ? { reads: fn.reads } : {}),
              ...(fn.writes.length ? { writes: fn.writes } : {}),
            })
          : undefined,
      };
    };
    const stored = await storedDecision(deps.store, batch, cluster);
    let decided: Decided;
    if (stored) decided = await remeasure(stored);
    else {
      decided = column
        ? await decide(
            { ...measureDeps, store: deps.store, threshold: deps.threshold, model: deps.model, now, notice: deps.notice ?? (() => {}) },
            spec,
            pattern,
          )
        : {
            decision: {
              schema_version: 1,
              tier: 'review',
              disposition: 'needs-review',
              function: null,
              confidence: 0,
              model: null,
              model_calls: 0,
              reason: `${spec.column}:${spec.rule} is not about one column's value`,
              tried: [],
              rounds: [],
              decided_at: now().toISOString(),
            },
            measurement: undefined,
          };
      const standing = await storeDecision(deps.store, batch, cluster, decided.decision);
      if (standing !== decided.decision) decided = await remeasure(standing);
    }
    const { decision, measurement } = decided;

    const applied = await applyDecision(engine, deps.store, dir, spec, pattern, decision, measurement);
    if (applied.counts.cells !== spec.cells) {
      throw new DataLossError(`cluster ${cluster}: ${applied.counts.cells} cells applied, the cluster holds ${spec.cells}`);
    }
    if (decision.function && (decision.tier === 'synthesizer' || decision.tier === 'model')) {
      await register(
        deps.store,
        patternSignature(
          spec.column,
          spec.rule,
          spec.shapes.map((s) => s.shape),
        ),
        {
          schema_version: 1,
          stream: spec.stream,
          column: spec.column,
          rule: spec.rule,
          shapes: spec.shapes.map((s) => s.shape),
          function: decision.function,
          approved_by: 'measured',
          origin: { tier: decision.tier, batch, cluster, confidence: decision.confidence, model: decision.model?.name ?? null },
        },
      );
    }
    const disposition: ClusterResult['disposition'] =
      decision.disposition === 'fix' ? (applied.counts.quarantined_cells === 0 ? 'fixed' : 'partly-fixed') : decision.disposition;
    const result: ClusterResult = {
      schema_version: 1,
      batch,
      stream: spec.stream,
      cluster,
      column: spec.column,
      rule: spec.rule,
      disposition,
      tier: decision.tier,
      function: decision.function,
      confidence: decision.confidence,
      threshold: deps.threshold,
      model: decision.model,
      model_calls: decision.model_calls,
      measured: {
        cells: measurement?.cells ?? spec.cells,
        passed: measurement?.passed ?? 0,
        pass_rate: measurement?.pass_rate ?? 0,
        failures: measurement?.failures ?? {},
        ...(decision.ambiguous_with ? { ambiguous_with: decision.ambiguous_with } : {}),
      },
      counts: applied.counts,
      reason: decision.reason,
      evidence: { tried: decision.tried, rounds: decision.rounds, examples: applied.examples },
      outputs: applied.outputs,
      decided_at: decision.decided_at,
    };
    // Last: its arrival tells reconcile this cluster is done.
    await writeObject(deps.store, vaultObjects.clusterResult.at(batch, cluster), result);
    return { status: 'remediated', result };
  });
}
