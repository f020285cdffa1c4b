import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertSink } from '../alerts/alerts.ts';
import { loadContract } from '../contract/registry.ts';
import { expectedSchema, schemaDrift, schemaFingerprint } from '../contract/schema-fingerprint.ts';
import { Engine } from '../engine/duckdb.ts';
import { UnsafeKeyError } from '../errors.ts';
import { batchId, keys, parseRawKey } from '../keys.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { putJson } from '../store/json-objects.ts';
import { DEFAULT_LEASE_MS, withClaim } from '../vault/claims.ts';
import { haltForDrift } from '../streams/halt-for-drift.ts';
import { haltForFailures, isAccepted } from '../streams/halt-for-failures.ts';
import { recordWaiting, streamState } from '../streams/stream-control.ts';
import { countRecords, type RecordCount } from './count-records.ts';
import { downloadObject } from '../store/download.ts';
import { InputRejectedError } from './input-rejected.ts';
import { loadSourceTable, MAX_LINE_BYTES, openSource } from './load-source.ts';
import { type IngestManifest } from '../vault/ingest-manifest.ts';
import { publishRows } from './publish-rows.ts';
import { fanOut } from './fan-out.ts';
import { refuseObject, type Refused } from './refuse-object.ts';
import { writeObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';

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
  if (counted.gzipError) return new InputRejectedError('not-gzip', 'the gzip stream is corrupt or truncated');
  if (format === 'csv' && counted.longest > MAX_LINE_BYTES) {
    return new InputRejectedError('line-too-long', `a record of ${counted.longest} bytes (limit ${MAX_LINE_BYTES})`);
  }
  return undefined;
}
const ms = (since: number) => Math.round(performance.now() - since);

/**
 * ingest: one raw vault object -> clean and suspect Parquet, a manifest, and nothing lost.
 * Order matters: the batch id comes from the bytes, so a replay of an ingested object stops at
 * the manifest check; a halted stream keeps the file waiting; drift halts the stream; a file
 * that cannot be read is quarantined whole with a reason; the rows of a readable file are
 * classified by the contract in the engine, and the counts must balance.
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

  const dir = join(deps.workDir, `ingest-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  try {
    const gzip = request.key.endsWith('.gz');
    const downloaded = await downloadObject(deps.store, request.key, request.versionId, join(dir, 'source'));
    const timings: Record<string, number> = { download: ms(started) };
    const batch = batchId(stream, downloaded.sha256);
    const manifestKey = keys.ingestManifest(batch);
    if (await deps.store.exists(manifestKey)) return { status: 'already-ingested', batch, manifestKey };
    // Once only: the same content delivered (or uploaded) several times at once is ingested by one holder.
    const claimed = await withClaim(
      deps.store,
      `${batch}/ingest`,
      { leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS },
      async (): Promise<IngestOutcome> => {
        if (await deps.store.exists(manifestKey)) return { status: 'already-ingested', batch, manifestKey };

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
        const contract = registered.contract;
        const waiting = { key: request.key, version_id: request.versionId ?? null, batch, since: now().toISOString() };

        const state = await streamState(deps.store, stream);
        if (state.state === 'halted') {
          await recordWaiting(deps.store, stream, waiting);
          return { status: 'waiting', batch, stream, reason: 'stream-halted' };
        }

        const base: Omit<IngestManifest, 'status' | 'rows' | 'reasons' | 'rejected' | 'outputs' | 'timings_ms' | 'schema_fingerprint'> = {
          schema_version: 2,
          batch,
          stream,
          source: {
            bucket: request.bucket,
            key: request.key,
            version_id: request.versionId ?? null,
            size: downloaded.size,
            sha256: downloaded.sha256,
            format: contract.format.type,
            gzip,
          },
          contract: { version: contract.version, fingerprint: registered.fingerprint },
        };
        const quarantineWhole = async (rejection: InputRejectedError, fingerprint: string | null) => {
          const manifest: IngestManifest = {
            ...base,
            status: 'quarantined',
            schema_fingerprint: fingerprint,
            rows: null,
            reasons: {},
            rejected: { reason: rejection.reason, detail: rejection.detail },
            outputs: { clean: [], suspect: [], quarantine: [keys.quarantineObject(stream, batch)] },
            timings_ms: { ...timings, total: ms(started) },
          };
          await putJson(deps.store, keys.quarantineObject(stream, batch), { ...base.source, batch, ...manifest.rejected });
          await writeObject(deps.store, vaultObjects.ingestManifest.at(batch), manifest);
          if (rejection.reason !== 'no-rows') {
            await deps.alerts.post({
              severity: 'SEV3',
              component: 'ingest',
              stream,
              batch,
              reason: rejection.reason,
              summary: `${request.key} was quarantined whole: ${rejection.detail}`,
              details: { key: request.key },
            });
          }
          return { status: 'quarantined' as const, batch, manifestKey, manifest };
        };

        if (downloaded.size === 0) return await quarantineWhole(new InputRejectedError('empty-file', 'the object has no bytes'), null);
        if (gzip && !downloaded.head.subarray(0, 2).equals(GZIP_MAGIC)) {
          return await quarantineWhole(new InputRejectedError('not-gzip', 'the key ends in .gz but the bytes are not gzip'), null);
        }
        // Counted concurrently with the engine's work below; awaited before any row is trusted.
        const counting = countRecords(downloaded.path, gzip);
        counting.catch(() => {}); // observed where awaited; never an unhandled rejection
        const countedFault = async () => faultInCount(await counting, contract.format.type);

        const engine = await Engine.open({ ...deps.engine, spillDir: join(dir, 'spill') });
        try {
          let observedFingerprint: string | null = null;
          let rowsLoaded: number;
          try {
            const t = performance.now();
            const reader = await openSource(engine, { path: downloaded.path, format: contract.format, gzip });
            observedFingerprint = schemaFingerprint(reader.observed);
            const drift = schemaDrift(expectedSchema(contract), reader.observed);
            if (observedFingerprint !== registered.fingerprint && drift) {
              await haltForDrift(deps.store, deps.alerts, {
                stream,
                batch,
                key: request.key,
                drift,
                expected: registered.fingerprint,
                found: observedFingerprint,
                at: now(),
              });
              await recordWaiting(deps.store, stream, waiting);
              return { status: 'waiting', batch, stream, reason: 'schema-drift' };
            }
            // Too large for one invocation: split into parts, each ingested by its own invocation.
            const partBytes = deps.partBytes ?? Number.POSITIVE_INFINITY;
            if (contract.format.type !== 'parquet' && (gzip ? (await counting).bytes : downloaded.size) > partBytes) {
              const counted = await counting;
              const fault = await countedFault();
              if (fault) throw fault;
              const plan = await fanOut({
                store: deps.store,
                engine,
                reader,
                registered,
                source: base.source,
                schemaFingerprint: observedFingerprint,
                batch,
                stream,
                dir,
                records: counted.records,
                localPath: downloaded.path,
                partBytes,
              });
              return { status: 'fanned-out', batch, parts: plan.parts.length, plan: keys.fanOutPlan(batch) };
            }
            rowsLoaded = await loadSourceTable(engine, reader, contract);
            timings['read'] = ms(t);
            const fault = await countedFault();
            if (fault) throw fault;
            // A second, independent count of the raw bytes: the engine must have read every record.
            // (It must: DuckDB 1.5 returns no rows, and no error, for a line longer than its buffer.)
            const { records } = await counting;
            if (contract.format.type === 'csv') {
              if (records - 1 !== rowsLoaded) {
                throw new InputRejectedError(
                  'csv-row-count-mismatch',
                  `the engine read ${rowsLoaded} rows where the bytes hold ${records - 1}`,
                );
              }
            }
            if (rowsLoaded === 0) throw new InputRejectedError('no-rows', 'the file has a header but no rows');
          } catch (error) {
            // A corrupt gzip or an over-long record explains any read error that came with it.
            const rejection = (await countedFault().catch(() => undefined)) ?? error;
            if (rejection instanceof InputRejectedError) return await quarantineWhole(rejection, observedFingerprint);
            throw error;
          }

          const t = performance.now();
          const { counts, reasons, outputs } = await publishRows(engine, deps.store, contract, { stream, batch, part: 0, dir, rowsLoaded });
          timings['bouncer_and_write'] = ms(t);
          // The circuit breaker: no manifest (so no batch starts) until an operator accepts it.
          const failing = counts.source ? (counts.suspect + counts.quarantined) / counts.source : 0;
          if (
            contract.max_failing_share !== undefined &&
            failing > contract.max_failing_share &&
            !(await isAccepted(deps.store, stream, batch))
          ) {
            await haltForFailures(deps.store, deps.alerts, {
              stream,
              batch,
              key: request.key,
              versionId: request.versionId ?? null,
              reason: 'failing-share',
              at: now(),
              summary: `${(failing * 100).toFixed(1)}% of ${request.key} failed the contract (more than ${(contract.max_failing_share * 100).toFixed(1)}%)`,
              details: { counts, reasons },
            });
            return { status: 'waiting', batch, stream, reason: 'failing-share' };
          }

          const manifest: IngestManifest = {
            ...base,
            status: 'ingested',
            schema_fingerprint: observedFingerprint,
            rows: counts,
            reasons,
            rejected: null,
            outputs,
            timings_ms: { ...timings, total: ms(started) },
          };
          await writeObject(deps.store, vaultObjects.ingestManifest.at(batch), manifest);
          return { status: 'ingested', batch, manifestKey, manifest };
        } finally {
          engine.close();
        }
        // Kept only when a manifest stands. A fanned-out parent gives its claim back: its replay
        // (an accepted breaker, a resume) must be able to run the fan-out again to complete the batch.
      },
      (outcome) => outcome.status === 'ingested' || outcome.status === 'quarantined' || outcome.status === 'already-ingested',
    );
    if (!claimed.held) return { status: 'claimed-elsewhere', batch, holder: claimed.by.holder, lease_until: claimed.by.lease_until };
    return claimed.value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
