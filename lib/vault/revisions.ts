import type { ObjectStore } from '../store/object-store.ts';
import { vaultObjects } from './objects.ts';
import type { ReconcileManifest } from './reconcile-manifest.ts';
import { findObject } from './vault-object.ts';

/** A batch's reconcile manifests, revision 0 (the first reconcile) first, then each revision after people's decisions. */
export interface Revisions {
  manifests: ReconcileManifest[];
  /** The newest manifest (what readers take as the batch's state). */
  latest: ReconcileManifest;
  /** Its revision number (0: no revision yet). */
  revision: number;
}

/**
 * Every reconcile manifest of a batch, in order (revision n exists only once n - 1 does); undefined before the first reconcile.
 *
 * @example
 * const revisions = await batchRevisions(store, batch);
 * if (revisions) console.log(revisions.latest.status, revisions.revision);
 */
export async function batchRevisions(store: ObjectStore, batch: string): Promise<Revisions | undefined> {
  const first = await findObject(store, vaultObjects.reconcileManifest.at(batch));
  if (!first) return undefined;
  const manifests = [first];
  for (;;) {
    const next = await findObject(store, vaultObjects.revisionManifest.at(batch, manifests.length));
    if (!next) break;
    manifests.push(next);
  }
  return { manifests, latest: manifests.at(-1)!, revision: manifests.length - 1 };
}
