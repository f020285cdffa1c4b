import { contractOfBatch } from '../contract/batch-contract.ts';
import type { Column, Contract } from '../contract/contract.ts';
import { withWorkspace } from '../engine/workspace.ts';
import type { Engine } from '../engine/duckdb.ts';
import type { MeasureDeps } from './measure.ts';
import { PatternTable } from './pattern-table.ts';
import type { Sandbox } from './sandbox.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { ClusterSpec } from '../vault/cluster-spec.ts';
import { vaultObjects } from '../vault/objects.ts';
import { findObject, readObject } from '../vault/vault-object.ts';

/** What opening a cluster needs. */
export interface ClusterDeps {
  store: ObjectStore;
  workDir: string;
  engine: { memoryLimit: string; threads: number };
  sandbox: Sandbox;
}

/** A cluster opened (for remediation or review): its spec, the stream's contract and column, its cells loaded in an engine, and what measuring needs. */
export interface OpenCluster {
  spec: ClusterSpec;
  contract: Contract;
  /** The contract column of the cluster; a pattern over several columns or a whole row (a unique or expression test) has none. */
  contractColumn: Column | undefined;
  /** The column the pattern is measured on (for a pattern of no one column: a nullable string column of its name). */
  column: Column;
  pattern: PatternTable;
  measureDeps: MeasureDeps;
  dir: string;
  engine: Engine;
}

/** The batch or cluster named does not exist in the vault. */
export class ClusterNotFoundError extends Error {
  override name = 'ClusterNotFoundError';
}

/**
 * Runs `work` on a cluster opened in a workspace of its own (named `name`) (see OpenCluster), gone when `work` ends.
 *
 * @example
 * const cells = await withCluster(deps, batch, cluster, 'review', async ({ spec }) => spec.cells);
 */
export async function withCluster<T>(
  deps: ClusterDeps,
  batch: string,
  cluster: string,
  name: string,
  work: (open: OpenCluster) => Promise<T>,
): Promise<T> {
  const spec = await findObject(deps.store, vaultObjects.cluster.at(batch, cluster));
  if (!spec) throw new ClusterNotFoundError(`no cluster ${cluster} in batch ${batch} (vaultmend status ${batch} lists its clusters)`);
  const ingest = await readObject(deps.store, vaultObjects.ingestManifest.at(batch));
  const contract = await contractOfBatch(deps.store, spec.stream, ingest.contract);
  const contractColumn = contract.columns.find((c) => c.name === spec.column);
  const column = contractColumn ?? {
    name: spec.column,
    type: 'string' as const,
    nullable: true,
    primary_key: false,
    pii: spec.pii,
  };
  return withWorkspace(deps.workDir, name, deps.engine, async ({ dir, engine }) => {
    const pattern = await PatternTable.load(engine, deps.store, dir, batch, contract, column, spec.cells_object);
    return work({ spec, contract, contractColumn, column, pattern, dir, engine, measureDeps: { engine, sandbox: deps.sandbox, contract } });
  });
}
