import type { ObjectStore } from '../store/object-store.ts';
import type { ReconcileManifest } from '../vault/reconcile-manifest.ts';
import { batchRevisions } from '../vault/revisions.ts';
import { genesis, verifyChain, type ChainVerdict } from './audit-chain.ts';

/**
 * `vaultmend audit verify`: recomputes a batch's audit chain against the root hashes in its
 * manifests, and checks that the store still holds each audit object under COMPLIANCE retention
 * until the recorded date. A batch revised after people's decisions has several audit objects,
 * each chained to the root of the one before (the first to the batch's genesis): the whole chain
 * is walked, object by object. Each log is the object's first version — the one written and
 * locked; anything written on top of it later is a new version that cannot replace it, and is
 * counted. With `text`, a copy (a download, an export) of the first object is checked instead;
 * the retention is still read from the store.
 */
export interface AuditVerdict {
  ok: boolean;
  batch: string;
  /** The first audit object (the one `text` replaces). */
  key: string;
  chain: ChainVerdict;
  retention: ObjectVerdict['retention'];
  /** Versions written on top of the locked log (attempts to overwrite it). */
  later_versions: number;
  /** Every audit object of the batch in chain order, the first one included. */
  objects: ObjectVerdict[];
}

/** One audit object's verdict. */
export interface ObjectVerdict {
  key: string;
  revision: number;
  ok: boolean;
  chain: ChainVerdict;
  retention: { mode: string | null; retain_until: string | null; expected_until: string; ok: boolean };
  later_versions: number;
}

export async function verifyBatchAudit(store: ObjectStore, batch: string, text?: string): Promise<AuditVerdict> {
  const revisions = await batchRevisions(store, batch);
  if (!revisions) throw new Error(`batch ${batch} has not been reconciled (no manifests/${batch}/reconcile.json)`);
  const first = revisions.manifests[0]!;
  if (!first.audit) throw new Error(`batch ${batch} has no audit log (status ${first.status})`);
  const objects: ObjectVerdict[] = [];
  let chainedTo = genesis(first.stream, batch);
  for (const [revision, manifest] of revisions.manifests.entries()) {
    if (!manifest.audit) continue;
    const verdict = await verifyObject(store, manifest, revision, chainedTo, revision === 0 ? text : undefined);
    objects.push(verdict);
    chainedTo = manifest.audit.root_hash;
  }
  const head = objects[0]!;
  return {
    ok: objects.every((o) => o.ok),
    batch,
    key: head.key,
    chain: head.chain,
    retention: head.retention,
    later_versions: head.later_versions,
    objects,
  };
}

/** One audit object against its manifest: the chain from `chainedTo` to the recorded root, and its lock. */
async function verifyObject(
  store: ObjectStore,
  manifest: ReconcileManifest,
  revision: number,
  chainedTo: string,
  text: string | undefined,
): Promise<ObjectVerdict> {
  const { key, root_hash: root, retain_until: expected } = manifest.audit!;
  const versions = await store.versions(key);
  const locked = versions[0];
  if (!locked) throw new Error(`the audit log ${key} is gone from the store`);
  const chain = verifyChain(manifest.stream, manifest.batch, text ?? (await store.readText(key, locked.versionId)), root, chainedTo);
  const lock = await store.retention(key, locked.versionId);
  const retentionOk = lock?.mode === 'COMPLIANCE' && lock.retainUntil.getTime() >= Date.parse(expected);
  return {
    key,
    revision,
    ok: chain.ok && retentionOk,
    chain,
    retention: {
      mode: lock?.mode ?? null,
      retain_until: lock?.retainUntil.toISOString() ?? null,
      expected_until: expected,
      ok: retentionOk,
    },
    later_versions: versions.length - 1,
  };
}
