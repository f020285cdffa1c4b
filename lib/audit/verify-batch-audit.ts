import type { ObjectStore } from '../store/object-store.ts';
import { verifyChain, type ChainVerdict } from './audit-chain.ts';
import { readObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';

/**
 * `vaultmend audit verify`: recomputes a batch's audit chain against the root hash in its
 * manifest, and checks that the store still holds the log under COMPLIANCE retention until
 * the recorded date. The log is the object's first version — the one written and locked;
 * anything written on top of it later is a new version that cannot replace it, and is counted.
 * With `text`, a copy (a download, an export) is checked instead; the retention is still read
 * from the store.
 */
export interface AuditVerdict {
  ok: boolean;
  batch: string;
  key: string;
  chain: ChainVerdict;
  retention: { mode: string | null; retain_until: string | null; expected_until: string; ok: boolean };
  /** Versions written on top of the locked log (attempts to overwrite it). */
  later_versions: number;
}

export async function verifyBatchAudit(store: ObjectStore, batch: string, text?: string): Promise<AuditVerdict> {
  const manifest = await readObject(store, vaultObjects.reconcileManifest.at(batch));
  if (!manifest.audit) throw new Error(`batch ${batch} has no audit log (status ${manifest.status})`);
  const { key, root_hash: root, retain_until: expected } = manifest.audit;
  const versions = await store.versions(key);
  const locked = versions[0];
  if (!locked) throw new Error(`the audit log ${key} is gone from the store`);
  const chain = verifyChain(manifest.stream, batch, text ?? (await store.readText(key, locked.versionId)), root);
  const lock = await store.retention(key, locked.versionId);
  const retentionOk = lock?.mode === 'COMPLIANCE' && lock.retainUntil.getTime() >= Date.parse(expected);
  return {
    ok: chain.ok && retentionOk,
    batch,
    key,
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
