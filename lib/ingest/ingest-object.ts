import { join } from 'node:path';
import type { AlertSink } from '../alerts/alerts.ts';
import { loadContract } from '../contract/registry.ts';
import { type CheckedContract, contractRef } from '../contract/batch-contract.ts';
import { evolveSchema, newColumns, type SchemaEvolution } from '../contract/evolve-schema.ts';
import { inferColumnTypes } from './infer-column-types.ts';
import {
  loadProposal,
  proposalDecision,
  proposalId,
  proposeVersion,
  type SchemaProposal,
  schemaRejection,
} from '../contract/schema-proposals.ts';
import type { Contract } from '../contract/contract.ts';
import { expectedSchema, schemaDrift, schemaFingerprint } from '../contract/schema-fingerprint.ts';
import { Engine } from '../engine/duckdb.ts';
import { UnsafeKeyError } from '../errors.ts';
import { batchId, keys, objectVersionId, parseRawKey } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { putJson } from '../store/json-objects.ts';
import { claimScopes, DEFAULT_LEASE_MS, withClaim } from '../vault/claims.ts';
import { haltForDrift } from '../streams/halt-for-drift.ts';
import { haltForFailures, isAccepted } from '../streams/halt-for-failures.ts';
import { recordWaiting, streamState, type WaitingFile } from '../streams/stream-control.ts';
import { countRecords, DEFAULT_GZIP_LIMITS, gzipBoundDetail, type GzipLimits, type RecordCount } from './count-records.ts';
import { downloadObject, type DownloadedObject } from '../store/download.ts';
import { InputRejectedError } from './input-rejected.ts';
import { loadSourceTable, MAX_LINE_BYTES, openSource, type SourceReader } from './load-source.ts';
import { type IngestManifest } from '../vault/ingest-manifest.ts';
import { publishRows } from './publish-rows.ts';
import { fanOut } from './fan-out.ts';
import { refuseObject, type Refused } from './refuse-object.ts';
import { sniffSource } from './sniff-content.ts';
import { putObjectIfAbsent, writeObject } from '../vault/vault-object.ts';
import { faultPoint } from '../faults/fault-point.ts';
import { vaultObjects } from '../vault/objects.ts';
import { inWorkDir, withEngine } from '../engine/workspace.ts';

export interface IngestRequest {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface IngestDeps {
  store: ObjectStore;
  alerts: AlertSink;
  workDir: string;
  engine: { memoryLimit: string; threads: number };
  /** Content larger than this fans out into parts (default: never). */
  partBytes?: number;
  /** How far a gzip may expand before it is refused as a bomb (default: DEFAULT_GZIP_LIMITS). */
  gzipLimits?: GzipLimits;
  /** How long this invocation's claim on the batch holds before another delivery may take it over. */
  leaseMs?: number;
  now?: () => Date;
}

export type IngestOutcome =
  | { status: 'ingested' | 'quarantined'; batch: string; manifestKey: string; manifest: IngestManifest }
  | { status: 'already-ingested'; batch: string; manifestKey: string }
  | { status: 'waiting'; batch: string; stream: string; reason: 'stream-halted' | 'schema-drift' | 'failing-share' }
  | { status: 'fanned-out'; batch: string; parts: number; plan: string }
  | { status: 'claimed-elsewhere'; batch: string; holder: string; lease_until: string }
  | Refused;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** What the independent count found wrong with the bytes themselves, if anything. */
function faultInCount(counted: RecordCount, format: IngestManifest['source']['format']): InputRejectedError | undefined {
  const bound = counted.gzipBound;
  if (bound) return new InputRejectedError(bound.reason, gzipBoundDetail(bound));
  if (counted.gzipError) return new InputRejectedError('not-gzip', 'the gzip stream is corrupt or truncated');
  if (format !== 'parquet' && counted.firstNul >= 0)
    return new InputRejectedError('binary-content', `a NUL byte at byte ${counted.firstNul} of the content: the file is binary, not text`);
  if (format === 'csv' && counted.longest > MAX_LINE_BYTES) {
    return new InputRejectedError('line-too-long', `a record of ${counted.longest} bytes (limit ${MAX_LINE_BYTES})`);
  }
  return undefined;
}
const ms = (since: number) => Math.round(performance.now() - since);

/** What the phases of one ingest share: the request, its downloaded bytes and the batch they name. */
interface Ingest {
  deps: IngestDeps;
  request: IngestRequest;
  now: () => Date;
  started: number;
  dir: string;
  stream: string;
  gzip: boolean;
  downloaded: DownloadedObject;
  batch: string;
  manifestKey: string;
  timings: Record<string, number>;
}

/** An ingest whose stream has a contract and is running. */
interface Admitted extends Ingest {
  /** The contract the file is checked against: the registered one, or a proposal the policy accepted (meetSchema). */
  registered: CheckedContract;
  base: Omit<IngestManifest, 'status' | 'rows' | 'reasons' | 'rejected' | 'outputs' | 'timings_ms' | 'schema_fingerprint'>;
  waiting: WaitingFile;
  /** The independent record count of the raw bytes, running beside the engine's read. */
  counting: Promise<RecordCount>;
}

/** A read source: its rows loaded into the engine, or the outcome that ends the ingest here. */
type Read = { loaded: true; rowsLoaded: number; fingerprint: string; ingest: Admitted } | { loaded: false; outcome: IngestOutcome };

/**
 * ingest: one raw vault object -> clean and suspect Parquet, a manifest, and nothing lost.
 * Phases, in order (the order matters): the key is checked; the bytes are downloaded and name the
 * batch (a replay of an ingested object stops at its manifest); the batch is claimed (once only);
 * the stream must have a contract and be running (else the file is refused or waits); the object
 * as a whole must be readable text of its format, sniffed from its head (else it is quarantined
 * whole with a reason); a gzip must not expand past its bound (a bomb); its schema must match
 * (a difference meets the stream's evolution policy: accepted under a proposed version, or the
 * stream halts); a large file fans out into parts; the rows are read and counted twice;
 * the bouncer classifies them in the engine; the breaker may hold the batch; the manifest last.
 */
export async function ingestObject(deps: IngestDeps, request: IngestRequest): Promise<IngestOutcome> {
  const now = deps.now ?? (() => new Date());
  const started = performance.now();
  let stream: string;
  try {
    ({ stream } = parseRawKey(request.key));
  } catch (error) {
    if (!(error instanceof UnsafeKeyError)) throw error;
    return refuseObject(deps.store, request, 'key-unsafe', error.message, now());
  }
  return inWorkDir(deps.workDir, 'ingest', async (dir) => {
    const ingest = await download({ deps, request, now, started, dir, stream });
    if (await deps.store.exists(ingest.manifestKey)) return alreadyIngested(ingest);
    // Once only: the same content delivered (or uploaded) several times at once is ingested by one holder.
    const lease = { leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS };
    const claimed = await withClaim(deps.store, claimScopes.ingest(ingest.batch), lease, () => ingestClaimed(ingest), keepsClaim);
    if (!claimed.held)
      return { status: 'claimed-elsewhere', batch: ingest.batch, holder: claimed.by.holder, lease_until: claimed.by.lease_until };
    return claimed.value;
  });
}

/**
 * Whether an outcome keeps the batch's claim: only when a manifest stands. A fanned-out parent
 * gives it back (its replay, after an accepted breaker or a resume, runs the fan-out again to
 * complete the batch), and so do a refused or a waiting file (their replay must be processed).
 */
function keepsClaim(outcome: IngestOutcome): boolean {
  return outcome.status === 'ingested' || outcome.status === 'quarantined' || outcome.status === 'already-ingested';
}

/** Phase: the object's bytes to the work directory, hashed on the way; the hash names the batch. */
async function download(start: Pick<Ingest, 'deps' | 'request' | 'now' | 'started' | 'dir' | 'stream'>): Promise<Ingest> {
  const { deps, request, dir, stream, started } = start;
  const downloaded = await downloadObject(deps.store, request.key, request.versionId, join(dir, 'source'));
  const batch = batchId(stream, downloaded.sha256);
  return {
    ...start,
    gzip: request.key.endsWith('.gz'),
    downloaded,
    batch,
    manifestKey: keys.ingestManifest(batch),
    timings: { download: ms(started) },
  };
}

/**
 * A version whose content is a batch already ingested (the same bytes under another key, or a
 * replay): recorded as seen, so the sweep knows this version is accounted for.
 */
async function alreadyIngested(ingest: Ingest): Promise<IngestOutcome> {
  const { request, batch } = ingest;
  const id = objectVersionId(request.key, request.versionId);
  await putObjectIfAbsent(ingest.deps.store, vaultObjects.seenObject.at(id), {
    key: request.key,
    version_id: request.versionId ?? null,
    batch,
    at: ingest.now().toISOString(),
  });
  return { status: 'already-ingested', batch, manifestKey: ingest.manifestKey };
}

/** The claimed batch through every later phase. */
async function ingestClaimed(ingest: Ingest): Promise<IngestOutcome> {
  faultPoint('ingest:after-claim');
  if (await ingest.deps.store.exists(ingest.manifestKey)) return alreadyIngested(ingest);
  const admitted = await admit(ingest);
  if ('status' in admitted) return admitted;
  const whole = wholeObjectFault(admitted) ?? (await sniffSource(admitted.downloaded.path, admitted.base.source.format, admitted.gzip));
  if (whole) return quarantineWhole(admitted, whole, null);
  // Counted concurrently with the engine's work; awaited before any row is trusted.
  const counting = countRecords(admitted.downloaded.path, admitted.gzip, ingest.deps.gzipLimits ?? DEFAULT_GZIP_LIMITS);
  counting.catch(() => {}); // observed where awaited; never an unhandled rejection
  const counted: Admitted = { ...admitted, counting };
  return withEngine(ingest.deps.engine, ingest.dir, async (engine) => {
    const read = await readSource(counted, engine);
    return read.loaded ? await publish(read.ingest, engine, read) : read.outcome;
  });
}

/** Phase: the stream must have a contract (else the file is refused, kept and alerted) and be running (else it waits). */
async function admit(ingest: Ingest): Promise<Omit<Admitted, 'counting'> | IngestOutcome> {
  const { deps, request, stream, batch, downloaded, now } = ingest;
  const registered = await loadContract(deps.store, stream);
  if (!registered) {
    await deps.alerts.post({
      severity: 'SEV2',
      component: 'ingest',
      stream,
      batch,
      reason: 'unknown-stream',
      summary: `a file arrived for stream ${stream}, which has no registered contract; it is kept and quarantined`,
      details: { key: request.key },
    });
    return refuseObject(deps.store, request, 'unknown-stream', `no contract registered for stream ${stream}`, now(), stream);
  }
  const waiting = { key: request.key, version_id: request.versionId ?? null, batch, since: now().toISOString() };
  if ((await streamState(deps.store, stream)).state === 'halted') {
    await recordWaiting(deps.store, stream, waiting);
    return { status: 'waiting', batch, stream, reason: 'stream-halted' };
  }
  const { contract } = registered;
  const source = {
    bucket: request.bucket,
    key: request.key,
    version_id: request.versionId ?? null,
    size: downloaded.size,
    sha256: downloaded.sha256,
  };
  const base = {
    schema_version: 2 as const,
    batch,
    stream,
    source: { ...source, format: contract.format.type, gzip: ingest.gzip },
    contract: contractRef(registered),
  };
  return { ...ingest, registered, base, waiting };
}

/**
 * Phase: what is wrong with the object as a whole before any parsing (no bytes, a .gz name without
 * gzip bytes); then (sniffSource) whether its head is text of the declared format at all.
 */
function wholeObjectFault({ downloaded, gzip }: Pick<Admitted, 'downloaded' | 'gzip'>): InputRejectedError | undefined {
  if (downloaded.size === 0) return new InputRejectedError('empty-file', 'the object has no bytes');
  if (gzip && !downloaded.head.subarray(0, 2).equals(GZIP_MAGIC))
    return new InputRejectedError('not-gzip', 'the key ends in .gz but the bytes are not gzip');
  return undefined;
}

/** The object set aside whole: the vault original untouched, a record, a quarantined manifest, an alert. */
async function quarantineWhole(
  ingest: Omit<Admitted, 'counting'>,
  rejection: InputRejectedError,
  fingerprint: string | null,
): Promise<IngestOutcome> {
  const { deps, request, stream, batch, base } = ingest;
  const manifest: IngestManifest = {
    ...base,
    status: 'quarantined',
    schema_fingerprint: fingerprint,
    rows: null,
    reasons: {},
    rejected: { reason: rejection.reason, detail: rejection.detail },
    outputs: { clean: [], suspect: [], quarantine: [keys.quarantineObject(stream, batch)] },
    timings_ms: { ...ingest.timings, total: ms(ingest.started) },
  };
  await putJson(deps.store, keys.quarantineObject(stream, batch), { ...base.source, batch, ...manifest.rejected });
  await writeObject(deps.store, vaultObjects.ingestManifest.at(batch), manifest);
  if (rejection.reason !== 'no-rows') {
    const summary = `${request.key} was quarantined whole: ${rejection.detail}`;
    await deps.alerts.post({
      severity: 'SEV3',
      component: 'ingest',
      stream,
      batch,
      reason: rejection.reason,
      summary,
      details: { key: request.key },
    });
  }
  return { status: 'quarantined', batch, manifestKey: ingest.manifestKey, manifest };
}

/**
 * Phases: the schema against the contract and its evolution policy (meetSchema), a fan-out when the file is
 * too large for one invocation, then the rows read into the engine and counted a second time from
 * the raw bytes. A read error the input explains quarantines the object whole; any other is thrown.
 */
async function readSource(ingest: Admitted, engine: Engine): Promise<Read> {
  let fingerprint: string | null = null;
  try {
    const t = performance.now();
    // A gzip is decompressed by the count, which stops at a bomb's bound, before the engine reads any of it.
    if (ingest.gzip) await throwCountedFault(ingest);
    const reader = await openSource(engine, { path: ingest.downloaded.path, format: ingest.registered.contract.format, gzip: ingest.gzip });
    fingerprint = schemaFingerprint(reader.observed);
    const met = await meetSchema(ingest, engine, reader, fingerprint);
    if ('status' in met) return { loaded: false, outcome: met };
    const early = await fanOutIfLarge(met, engine, reader, fingerprint);
    if (early) return { loaded: false, outcome: early };
    const rowsLoaded = await loadSourceTable(engine, reader, met.registered.contract);
    ingest.timings['read'] = ms(t);
    await checkCounts(met, rowsLoaded);
    return { loaded: true, rowsLoaded, fingerprint, ingest: met };
  } catch (error) {
    // A corrupt gzip or an over-long record explains any read error that came with it.
    const rejection = (await countedFault(ingest).catch(() => undefined)) ?? error;
    if (rejection instanceof InputRejectedError) return { loaded: false, outcome: await quarantineWhole(ingest, rejection, fingerprint) };
    throw error;
  }
}

/** What the independent count found wrong with the bytes themselves, once it is done. */
async function countedFault(ingest: Admitted): Promise<InputRejectedError | undefined> {
  return faultInCount(await ingest.counting, ingest.registered.contract.format.type);
}

/** Waits for the count and throws what it found wrong with the bytes, if anything. */
async function throwCountedFault(ingest: Admitted): Promise<void> {
  const fault = await countedFault(ingest);
  if (fault) throw fault;
}

/**
 * Phase: the file's columns against the contract. Different columns meet the stream's evolution
 * policy (evolve-schema.ts) and leave a schema proposal (written once). Accepted (or adopted by an
 * operator meanwhile): the batch goes on under the proposal, and the operators are alerted when
 * the proposal is new. A schema an operator rejected: the file is quarantined whole (kept in the
 * raw vault). Any other: the stream halts (SEV1) and the file waits with every later one.
 */
async function meetSchema(ingest: Admitted, engine: Engine, reader: SourceReader, found: string): Promise<Admitted | IngestOutcome> {
  const { deps, request, stream, batch, registered } = ingest;
  const drift = schemaDrift(expectedSchema(registered.contract), reader.observed);
  if (found === registered.fingerprint || !drift) return ingest;
  const rejection = await schemaRejection(deps.store, stream, found);
  if (rejection) return quarantineWhole(ingest, rejectedSchema(rejection), found);
  const evolution = evolveSchema(registered.contract, reader.observed);
  const proposal = evolution.proposed && (await proposalOf(ingest, { ...evolution, proposed: evolution.proposed }, engine, reader));
  const decision = proposal && (await proposalDecision(deps.store, stream, proposal.id));
  if (decision?.decision === 'rejected') return quarantineWhole(ingest, rejectedSchema({ ...decision, proposal: decision.id }), found);
  if (proposal && (evolution.verdict.accepted || decision?.decision === 'adopted')) {
    const checked: CheckedContract = {
      contract: proposal.contract,
      fingerprint: proposal.fingerprint,
      registered_at: proposal.proposed_at,
      ...(registered.registry_version ? { registry_version: registered.registry_version } : {}),
      proposal: proposal.id,
    };
    return { ...ingest, registered: checked, base: { ...ingest.base, contract: contractRef(checked) } };
  }
  await haltForDrift(deps.store, deps.alerts, {
    stream,
    batch,
    key: request.key,
    drift,
    expected: registered.fingerprint,
    found,
    at: ingest.now(),
    verdict: evolution.verdict,
    ...(proposal ? { proposal: { id: proposal.id, key: keys.schemaProposal(stream, proposal.id) } } : {}),
    ...(evolution.invalid ? { invalid: evolution.invalid } : {}),
  });
  await recordWaiting(deps.store, stream, ingest.waiting);
  return { status: 'waiting', batch, stream, reason: 'schema-drift' };
}

/**
 * The proposal a file's columns make, written once, with the types the first file's values
 * suggest for its new columns (a hint for the operator; the proposal's columns stay `string`). A
 * new one the policy accepts is announced first (SEV3 `schema-evolved`): a crash between the two
 * announces it again, never not at all.
 */
async function proposalOf(
  ingest: Admitted,
  evolution: SchemaEvolution & { proposed: Contract },
  engine: Engine,
  reader: SourceReader,
): Promise<SchemaProposal> {
  const { deps, request, stream, batch, registered } = ingest;
  const id = proposalId(registered, evolution.proposed);
  const known = await loadProposal(deps.store, stream, id);
  if (known) return known;
  const contract = registered.contract;
  const added = contract.format.type === 'parquet' ? [] : newColumns(contract, reader.observed);
  const types = await inferColumnTypes(engine, reader, contract, added);
  const suggested = Object.fromEntries([...types].filter(([, type]) => type !== 'string'));
  if (evolution.verdict.accepted) {
    await deps.alerts.post({
      severity: 'SEV3',
      component: 'ingest',
      stream,
      batch,
      reason: 'schema-evolved',
      summary: `stream ${stream} accepted a schema change (${evolution.verdict.rule}) under proposed version ${id}: adopt it with \`vaultmend contracts adopt ${stream} ${id}\` or reject it`,
      details: { key: request.key, proposal: keys.schemaProposal(stream, id), changes: evolution.verdict.changes },
    });
  }
  return proposeVersion(deps.store, { registered, evolution, suggested, batch, key: request.key, at: ingest.now() });
}

/** Why a file of a rejected schema is quarantined, and what would let such files in. */
function rejectedSchema(rejection: { by: string; proposal: string; reason?: string | undefined }): InputRejectedError {
  const why = rejection.reason ? `: ${rejection.reason}` : '';
  return new InputRejectedError(
    'schema-rejected',
    `the file's columns are a schema ${rejection.by} rejected (proposal ${rejection.proposal}${why}); it is kept in the raw vault. To take such files, register a contract with these columns`,
  );
}

/** Too large for one invocation: split into parts, each ingested by its own invocation. */
async function fanOutIfLarge(
  ingest: Admitted,
  engine: Engine,
  reader: SourceReader,
  fingerprint: string,
): Promise<IngestOutcome | undefined> {
  const { deps, registered, gzip, downloaded, batch } = ingest;
  const partBytes = deps.partBytes ?? Number.POSITIVE_INFINITY;
  if (registered.contract.format.type === 'parquet' || (gzip ? (await ingest.counting).bytes : downloaded.size) <= partBytes)
    return undefined;
  await throwCountedFault(ingest);
  const records = (await ingest.counting).records;
  const source = { store: deps.store, engine, reader, registered, source: ingest.base.source, schemaFingerprint: fingerprint };
  const plan = await fanOut({ ...source, batch, stream: ingest.stream, dir: ingest.dir, records, localPath: downloaded.path, partBytes });
  return { status: 'fanned-out', batch, parts: plan.parts.length, plan: keys.fanOutPlan(batch) };
}

/** The engine must have read every record: an independent count of the raw bytes (DuckDB 1.5 returns no rows, and no error, for a line longer than its buffer). */
async function checkCounts(ingest: Admitted, rowsLoaded: number): Promise<void> {
  await throwCountedFault(ingest);
  const { records } = await ingest.counting;
  if (ingest.registered.contract.format.type === 'csv' && records - 1 !== rowsLoaded) {
    throw new InputRejectedError('csv-row-count-mismatch', `the engine read ${rowsLoaded} rows where the bytes hold ${records - 1}`);
  }
  if (rowsLoaded === 0) throw new InputRejectedError('no-rows', 'the file has a header but no rows');
}

/** Phases: the bouncer writes the lanes; the breaker may hold the batch (no manifest until accepted); the manifest last. */
async function publish(ingest: Admitted, engine: Engine, read: { rowsLoaded: number; fingerprint: string }): Promise<IngestOutcome> {
  const { deps, request, stream, batch } = ingest;
  const contract = ingest.registered.contract;
  const t = performance.now();
  const { counts, reasons, outputs } = await publishRows(engine, deps.store, contract, {
    stream,
    batch,
    part: 0,
    dir: ingest.dir,
    rowsLoaded: read.rowsLoaded,
  });
  faultPoint('ingest:after-clean');
  ingest.timings['bouncer_and_write'] = ms(t);
  const failing = counts.source ? (counts.suspect + counts.quarantined) / counts.source : 0;
  const limit = contract.max_failing_share;
  if (limit !== undefined && failing > limit && !(await isAccepted(deps.store, stream, batch))) {
    const summary = `${(failing * 100).toFixed(1)}% of ${request.key} failed the contract (more than ${(limit * 100).toFixed(1)}%)`;
    const at = ingest.now();
    await haltForFailures(deps.store, deps.alerts, {
      stream,
      batch,
      key: request.key,
      versionId: request.versionId ?? null,
      reason: 'failing-share',
      at,
      summary,
      details: { counts, reasons },
    });
    return { status: 'waiting', batch, stream, reason: 'failing-share' };
  }
  const manifest: IngestManifest = {
    ...ingest.base,
    status: 'ingested',
    schema_fingerprint: read.fingerprint,
    rows: counts,
    reasons,
    rejected: null,
    outputs,
    timings_ms: { ...ingest.timings, total: ms(ingest.started) },
  };
  faultPoint('ingest:before-manifest');
  await writeObject(deps.store, vaultObjects.ingestManifest.at(batch), manifest);
  faultPoint('ingest:after-manifest');
  return { status: 'ingested', batch, manifestKey: ingest.manifestKey, manifest };
}
