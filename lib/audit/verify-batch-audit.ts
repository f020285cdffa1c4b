import { keys } from '../keys.ts';
import { ReconcileManifestSchema } from '../reconcile/reconcile-manifest.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { verifyChain, type ChainVerdict } from './audit-chain.ts';

/**
 * `vaultmend audit verify`: recomputes a batch's audit chain against the root hash in its
 * manifest, and checks that the store still holds the log under COMPLIANCE retention until
 * the recorded date. With `text`, a copy (a download, an export) is checked instead of the
 * stored object's content; the retention is still read from the store.
 */
export interface AuditVerdict {
  ok: boolean;
  batch: string;
  key: string;
  chain: ChainVerdict;
  retention: { mode: string | null; retain_until: string | null; expected_until: string; ok: boolean };
}

export async function verifyBatchAudit(store: ObjectStore, batch: string, text?: string): Promise<AuditVerdict> {
  const manifest = ReconcileManifestSchema.parse(JSON.parse(await store.readText(keys.reconcileManifest(batch))));
  if (!manifest.audit) throw new Error(`batch ${batch} has no audit log (status ${manifest.status})`);
  const { key, root_hash: root, retain_until: expected } = manifest.audit;
  const chain = verifyChain(manifest.stream, batch, text ?? (await store.readText(key)), root);
  const lock = await store.retention(key);
  const retentionOk = lock?.mode === 'COMPLIANCE' && lock.retainUntil.getTime() >= Date.parse(expected);
  return {
    ok: chain.ok && retentionOk,
    batch,
    key,
    chain,
    retention: { mode: lock?.mode ?? null, retain_until: lock?.retainUntil.toISOString() ?? null, expected_until: expected, ok: retentionOk },
  };
}
