import { createHash } from 'node:crypto';
import { UnsafeKeyError } from './errors.ts';

/**
 * The vault's key layout, in one place. Every step derives the keys it reads and writes from
 * here, so a batch's objects can be found from its id alone.
 */
export const RAW_PREFIX = 'raw/';
export const PARTS_PREFIX = 'parts/';

/** A stream name: lowercase, digits, `-` and `_`, at most 63 characters. */
export const STREAM_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_KEY_LENGTH = 1024;

export interface RawKey {
  stream: string;
  /** The file's path below the stream folder. */
  file: string;
}

/** Parses `raw/<stream>/<file>`, refusing anything that could escape the layout or confuse a log. */
export function parseRawKey(key: string): RawKey {
  if (key.length > MAX_KEY_LENGTH) throw new UnsafeKeyError(key.slice(0, 64), `longer than ${MAX_KEY_LENGTH} characters`);
  if (!key.startsWith(RAW_PREFIX)) throw new UnsafeKeyError(key, `not under ${RAW_PREFIX}`);
  // Control characters (and DEL) make keys that display as something else.
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new UnsafeKeyError(key, 'contains a control character');
  if (key.includes('\\')) throw new UnsafeKeyError(key, 'contains a backslash');
  const parts = key.slice(RAW_PREFIX.length).split('/');
  if (parts.some((p) => p === '..' || p === '.')) throw new UnsafeKeyError(key, 'contains a relative path segment');
  if (parts.some((p) => p === '')) throw new UnsafeKeyError(key, 'contains an empty path segment');
  if (parts.some(encodedTraversal)) throw new UnsafeKeyError(key, 'contains a percent-encoded relative path segment or separator');
  const [stream, ...rest] = parts;
  if (stream === undefined || !STREAM_NAME.test(stream)) {
    throw new UnsafeKeyError(key, 'stream name must match [a-z0-9][a-z0-9_-]{0,62}');
  }
  if (rest.length === 0) throw new UnsafeKeyError(key, 'no file below the stream folder');
  return { stream, file: rest.join('/') };
}

/**
 * A segment that, percent-decoded (up to three times: double encoding), reads as `.` or `..` or
 * holds a `/` or `\`: harmless as a key, but a traversal for any tool that decodes it once more.
 */
function encodedTraversal(segment: string): boolean {
  let decoded = segment;
  for (let round = 0; round < 3 && decoded.includes('%'); round++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      return false; // not percent-encoding (`50%.csv`)
    }
    if (decoded === '.' || decoded === '..' || /[/\\]/.test(decoded)) return true;
  }
  return false;
}

/** The id of one version of a raw object (key and version id), as the vault's records of that version name it. */
export function objectVersionId(key: string, versionId: string | null | undefined): string {
  return createHash('sha256')
    .update(`${key}\n${versionId ?? ''}`)
    .digest('hex')
    .slice(0, 32);
}

/** A batch is named by its stream and its content, so re-uploading the same bytes names the same batch. */
export function batchId(stream: string, contentSha256: string): string {
  const digest = createHash('sha256').update(`${stream}\n${contentSha256}`).digest('hex');
  return `${stream}-${digest.slice(0, 20)}`;
}

export const keys = {
  ingestManifest: (batch: string) => `manifests/${batch}/ingest.json`,
  contract: (stream: string) => `contracts/${stream}.json`,
  /** Registry version `n` (1, 2, ...) of a stream's contract: written once, never overwritten. */
  contractVersion: (stream: string, n: number) => `contracts/${stream}/versions/${String(n).padStart(6, '0')}.json`,
  contractVersions: (stream: string) => `contracts/${stream}/versions/`,
  /** A next contract a file's schema proposed (schema evolution), and the operator's decision on it: each written once. */
  schemaProposal: (stream: string, id: string) => `contracts/${stream}/proposals/${id}.json`,
  schemaProposals: (stream: string) => `contracts/${stream}/proposals/`,
  proposalDecision: (stream: string, id: string) => `contracts/${stream}/decisions/${id}.json`,
  /** A file schema (by its fingerprint) an operator rejected: every file of it is quarantined whole. */
  rejectedSchema: (stream: string, fingerprint: string) => `contracts/${stream}/rejected/${fingerprint}.json`,
  streamState: (stream: string) => `control/${stream}/state.json`,
  waitingPrefix: (stream: string) => `control/${stream}/waiting/`,
  waiting: (stream: string, id: string) => `control/${stream}/waiting/${id}.json`,
  /** A batch an operator let through although more of it failed than the contract allows. */
  acceptedBatch: (stream: string, batch: string) => `control/${stream}/accepted/${batch}.json`,
  driftReport: (stream: string, batch: string) => `reports/drift/${stream}/${batch}.json`,
  clean: (stream: string, batch: string, part = 0) => `clean/${stream}/${batch}/part-${part}.parquet`,
  suspect: (stream: string, batch: string, part = 0) => `suspect/${stream}/${batch}/part-${part}.parquet`,
  quarantineRows: (stream: string, batch: string, part = 0) => `quarantine/${stream}/${batch}/rows-part-${part}.parquet`,
  /** A fanned-out batch: its plan, the part files, each part's manifest, and the batch-wide facts. */
  fanOutPlan: (batch: string) => `manifests/${batch}/plan.json`,
  sourcePart: (stream: string, batch: string, part: number, extension: string) => `${PARTS_PREFIX}${stream}/${batch}/${part}.${extension}`,
  partManifest: (batch: string, part: number) => `manifests/${batch}/parts/${part}.json`,
  batchFacts: (batch: string, fact: string) => `work/${batch}/ingest/${fact}.parquet`,
  /** One promoted batch's votes for its stream's dependencies (see lib/evidence/stream-profile.ts); `asOf` is its reconcile start. */
  streamProfile: (stream: string, asOf: string, batch: string) =>
    `profiles/${stream}/${new Date(asOf).toISOString().replace(/[^0-9TZ]/g, '')}--${batch}.parquet`,
  streamProfilePrefix: (stream: string) => `profiles/${stream}/`,
  /** What discovery found in the batch (dependencies and domains), acting or not: for operators to adopt. */
  discoveredRules: (batch: string) => `reports/${batch}/discovered.json`,
  /** Clustering: the batch's cluster manifest, one object per cluster (each triggers remediate) and its cells. */
  clusterManifest: (batch: string) => `manifests/${batch}/cluster.json`,
  cluster: (batch: string, cluster: string) => `work/${batch}/clusters/${cluster}.json`,
  clusterCells: (batch: string, cluster: string) => `work/${batch}/clusters/${cluster}.cells.parquet`,
  /** A cluster's remediation result (each triggers reconcile); a batch with no clusters writes `none`. */
  clusterResult: (batch: string, cluster: string) => `results/${batch}/${cluster}.json`,
  noClusters: (batch: string) => `results/${batch}/none.json`,
  quarantineObject: (stream: string, batch: string) => `quarantine/${stream}/${batch}/object.json`,
  /** Remediation: the decision taken for a cluster (written once, so a retry applies the same function), and its outputs. */
  decision: (batch: string, cluster: string) => `decisions/${batch}/${cluster}.json`,
  /** Whether the model tier is usable for a batch: written by the first cluster that finds out, read by the rest. */
  modelTier: (batch: string) => `decisions/${batch}/_model-tier.json`,
  staged: (stream: string, batch: string, cluster: string) => `staged/${stream}/${batch}/${cluster}.parquet`,
  quarantineCells: (stream: string, batch: string, cluster: string) => `quarantine/${stream}/${batch}/cells-${cluster}.parquet`,
  auditPart: (batch: string, cluster: string) => `work/${batch}/audit/${cluster}.parquet`,
  /** Reconcile: the batch's proof, its promoted rows, its write-once audit log, its report. */
  reconcileManifest: (batch: string) => `manifests/${batch}/reconcile.json`,
  /** When reconcile first ran for a batch: every re-run stamps its outputs with the same time. */
  reconcileStart: (batch: string) => `decisions/${batch}/_reconcile.json`,
  curated: (stream: string, batch: string) => `curated/${stream}/${batch}.parquet`,
  audit: (stream: string, batch: string) => `audit/${stream}/${batch}.jsonl`,
  report: (batch: string) => `reports/${batch}.json`,
  reportPage: (batch: string) => `reports/${batch}.html`,
  rollback: (stream: string, batch: string) => `rollback/${stream}/${batch}.parquet`,
  /** A person's decision on a cluster waiting for review (written once; triggers remediate). */
  review: (batch: string, cluster: string) => `reviews/${batch}/${cluster}.json`,
  /** The result of re-remediating a reviewed cluster with the operator's function (triggers a revision of reconcile). */
  reviewedResult: (batch: string, cluster: string) => `reviewed/${batch}/${cluster}.json`,
  reviewedStaged: (stream: string, batch: string, cluster: string) => `staged/${stream}/${batch}/${cluster}.reviewed.parquet`,
  reviewedQuarantineCells: (stream: string, batch: string, cluster: string) =>
    `quarantine/${stream}/${batch}/cells-${cluster}.reviewed.parquet`,
  reviewedAuditPart: (batch: string, cluster: string) => `work/${batch}/audit/${cluster}.reviewed.parquet`,
  /** Revision n >= 1 of a batch's reconcile (after operator decisions): its manifest, its audit object chained to the one before, its curated part. */
  revisionManifest: (batch: string, revision: number) => `manifests/${batch}/reconcile.r${revision}.json`,
  auditRevision: (stream: string, batch: string, revision: number) => `audit/${stream}/${batch}.r${revision}.jsonl`,
  curatedPart: (stream: string, batch: string, revision: number) => `curated/${stream}/${batch}.r${revision}.parquet`,
  /** Approved functions by (stream, column, pattern signature): the registry tier. */
  registryEntry: (stream: string, signature: string) => `registry/${stream}/${signature}.json`,
  /** A step's claim on its work (first writer wins); a takeover after the lease claims the next generation. */
  claim: (scope: string, generation: number) => `claims/${scope}/${String(generation).padStart(4, '0')}.json`,
  /** Written by a holder that gave its claim up (it failed): the claim may be taken over at once. */
  claimRelease: (scope: string, generation: number) => `claims/${scope}/${String(generation).padStart(4, '0')}.released.json`,
  /** Failed ingest attempts of one object content (key + ETag). */
  ingestAttempts: (id: string) => `control/_attempts/${id}.json`,
  /** A raw object version ingest found already ingested (its content is a batch under another key, or a replay): accounted for. */
  seenObject: (id: string) => `control/_seen/${id}.json`,
  /** What the sweep replayed of a raw object no batch came of (by key): how often, and the versions its replays made. */
  sweptObject: (id: string) => `control/_swept/${id}.json`,
  /** The input set of reconcile revision n, fixed by its first holder: every later holder reconciles the same. */
  revisionPlan: (batch: string, revision: number) => `manifests/${batch}/reconcile.r${revision}.plan.json`,
  /** Objects whose key is refused have no trustworthy stream: they are recorded by key hash. */
  refusedObject: (keyHash: string) => `quarantine/_refused/${keyHash}.json`,
  /**
   * An OpenLineage run event of a step on a batch (first writer wins): `run` is the job and, for a
   * run per cluster or revision, its qualifier (`vaultmend.remediate.c-0123456789abcdef`).
   */
  lineageEvent: (batch: string, run: string, eventType: string) => `lineage/${batch}/${run}.${eventType}.json`,
};

export interface PartKey {
  stream: string;
  batch: string;
  part: number;
}

/** Parses `parts/<stream>/<batch>/<n>.<ext>`, the parts a large file is split into. */
export function parsePartKey(key: string): PartKey {
  const match = /^parts\/([a-z0-9][a-z0-9_-]{0,62})\/([a-z0-9_-]+-[0-9a-f]{20})\/(\d{1,6})\.(csv|jsonl)$/.exec(key);
  if (!match) throw new UnsafeKeyError(key, 'not a part key parts/<stream>/<batch>/<n>.<csv|jsonl>');
  return { stream: match[1]!, batch: match[2]!, part: Number(match[3]) };
}

const BATCH = '[a-z0-9][a-z0-9_-]{0,62}-[0-9a-f]{20}';

/** Parses `manifests/<batch>/ingest.json`, the object whose arrival starts clustering. */
export function parseIngestManifestKey(key: string): { batch: string } {
  const match = new RegExp(`^manifests/(${BATCH})/ingest\\.json$`).exec(key);
  if (!match) throw new UnsafeKeyError(key, 'not an ingest manifest key manifests/<batch>/ingest.json');
  return { batch: match[1]! };
}

/** Parses `work/<batch>/clusters/<cluster>.json`, the object whose arrival starts remediate. */
export function parseClusterKey(key: string): { batch: string; cluster: string } {
  const match = new RegExp(`^work/(${BATCH})/clusters/(c-[0-9a-f]{16})\\.json$`).exec(key);
  if (!match) throw new UnsafeKeyError(key, 'not a cluster key work/<batch>/clusters/<cluster>.json');
  return { batch: match[1]!, cluster: match[2]! };
}

/** Parses `results/<batch>/<cluster|none>.json`, the objects whose arrival may complete a batch. */
export function parseResultKey(key: string): { batch: string } {
  const match = new RegExp(`^results/(${BATCH})/(c-[0-9a-f]{16}|none)\\.json$`).exec(key);
  if (!match) throw new UnsafeKeyError(key, 'not a result key results/<batch>/<cluster>.json');
  return { batch: match[1]! };
}

/** Parses `reviews/<batch>/<cluster>.json`, a person's decision whose arrival re-remediates the cluster. */
export function parseReviewKey(key: string): { batch: string; cluster: string } {
  const match = new RegExp(`^reviews/(${BATCH})/(c-[0-9a-f]{16})\\.json$`).exec(key);
  if (!match) throw new UnsafeKeyError(key, 'not a review key reviews/<batch>/<cluster>.json');
  return { batch: match[1]!, cluster: match[2]! };
}

/** Parses `reviewed/<batch>/<cluster>.json`, a re-remediated cluster whose arrival revises the batch's reconcile. */
export function parseReviewedKey(key: string): { batch: string; cluster: string } {
  const match = new RegExp(`^reviewed/(${BATCH})/(c-[0-9a-f]{16})\\.json$`).exec(key);
  if (!match) throw new UnsafeKeyError(key, 'not a reviewed result key reviewed/<batch>/<cluster>.json');
  return { batch: match[1]!, cluster: match[2]! };
}

/** The stream a batch id belongs to (`<stream>-<20 hex>`). */
export function streamOfBatch(batch: string): string {
  if (!new RegExp(`^${BATCH}$`).test(batch)) throw new UnsafeKeyError(batch, 'not a batch id <stream>-<20 hex>');
  return batch.slice(0, -21);
}
