import { keys } from '../keys.ts';
import { RunEventSchema } from '../lineage/run-event.ts';
import { claimObject } from './claims.ts';
import { ClusterManifestSchema, serialiseClusterManifest } from './cluster-manifest.ts';
import { ClusterResultSchema, serialiseClusterResult } from './cluster-result.ts';
import { ClusterSpecSchema, serialiseClusterSpec } from './cluster-spec.ts';
import { DecisionSchema, ModelTierSchema } from './decision.ts';
import { IngestManifestSchema, serialiseManifest } from './ingest-manifest.ts';
import { ReconcileManifestSchema, serialiseReconcileManifest } from './reconcile-manifest.ts';
import { ReviewDecisionSchema } from './review-decision.ts';
import { objectKind } from './vault-object.ts';
import { z } from 'zod';

/** Failed ingest attempts of one object content (key + ETag): read by ingest's retry budget and by a stream's resume. */
const AttemptsSchema = z.object({
  key: z.string(),
  etag: z.string().nullable(),
  attempts: z.number().int().positive(),
  last_error: z.string(),
  last_at: z.string(),
});

/**
 * The objects the steps hand each other through the vault, one typed entry per kind of the
 * README's key table: its key (from lib/keys.ts) and its schema. The steps are siblings over
 * these entries and the contract; none reads another step's objects any other way.
 *
 * @example
 * const manifest = await readObject(store, vaultObjects.ingestManifest.at(batch));
 */
export const vaultObjects = {
  ingestManifest: objectKind('ingest manifest', keys.ingestManifest, IngestManifestSchema, { serialise: serialiseManifest }),
  clusterManifest: objectKind('cluster manifest', keys.clusterManifest, ClusterManifestSchema, { serialise: serialiseClusterManifest }),
  cluster: objectKind('cluster', keys.cluster, ClusterSpecSchema, { serialise: serialiseClusterSpec }),
  clusterResult: objectKind('cluster result', keys.clusterResult, ClusterResultSchema, { serialise: serialiseClusterResult }),
  decision: objectKind('decision', keys.decision, DecisionSchema, { once: true }),
  modelTier: objectKind('model-tier standing', keys.modelTier, ModelTierSchema, { once: true }),
  reconcileManifest: objectKind('reconcile manifest', keys.reconcileManifest, ReconcileManifestSchema, {
    serialise: serialiseReconcileManifest,
  }),
  /** A person's decision on a cluster (first writer wins), and the result of re-remediating it with that decision. */
  review: objectKind('review decision', keys.review, ReviewDecisionSchema, { once: true }),
  reviewedResult: objectKind('reviewed cluster result', keys.reviewedResult, ClusterResultSchema, { serialise: serialiseClusterResult }),
  /** Revision n >= 1 of a batch's reconcile manifest (first writer wins: one revision n per batch). */
  revisionManifest: objectKind('reconcile revision manifest', keys.revisionManifest, ReconcileManifestSchema, {
    once: true,
    serialise: serialiseReconcileManifest,
  }),
  /** `control/_seen/<id>.json`: a raw object version ingest found already ingested, and the batch it is (first writer wins). */
  seenObject: objectKind(
    'seen raw object',
    keys.seenObject,
    z.object({ key: z.string(), version_id: z.string().nullable(), batch: z.string(), at: z.string() }),
    { once: true },
  ),
  /** `control/_swept/<id>.json`: the sweep's replays of a raw object no batch came of (by key). */
  sweptObject: objectKind(
    'swept raw object',
    keys.sweptObject,
    z.object({ key: z.string(), replays: z.number().int().nonnegative(), at: z.string(), versions: z.array(z.string().nullable()) }),
  ),
  /** The input set of reconcile revision n, fixed by its first holder (first writer wins). */
  revisionPlan: objectKind(
    'reconcile revision plan',
    keys.revisionPlan,
    z.object({ revision: z.number().int().positive(), reviewed: z.array(z.string()), fresh: z.array(z.string()), stamp: z.string() }),
    { once: true },
  ),
  claim: claimObject,
  /** When reconcile first ran for a batch without clusters: every run stamps its outputs with it. */
  reconcileStart: objectKind('reconcile start', keys.reconcileStart, z.object({ as_of: z.iso.datetime() }), { once: true }),
  /** `control/_attempts/<id>.json`, named by its listed key. */
  ingestAttempts: objectKind('ingest attempts', (key: string) => key, AttemptsSchema),
  /** `lineage/<batch>/<job>[.<qualifier>].<eventType>.json`: a step's OpenLineage run event (first writer wins: a redelivery writes none twice). */
  lineageEvent: objectKind('lineage event', keys.lineageEvent, RunEventSchema, { once: true }),
};
