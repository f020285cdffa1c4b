import { createHash } from 'node:crypto';
import { safeErrorMessage } from '../errors.ts';
import { keys } from '../keys.ts';
import { putJson } from '../store/json-objects.ts';
import type { IngestDeps, IngestRequest } from './ingest-object.ts';
import { haltForFailures } from '../streams/halt-for-failures.ts';
import { refuseObject, type Refused } from './refuse-object.ts';
import { findObject } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';

/** The stream of a raw or part key, when it has one. */
function streamOfObjectKey(key: string): string | undefined {
  return /^(?:raw|parts)\/([a-z0-9][a-z0-9_-]{0,62})\//.exec(key)?.[1];
}

/**
 * A poison object must not be retried forever. Bad input is never thrown (it is quarantined
 * with a reason); an unexpected failure is thrown so that the platform retries it, but each
 * failure of the same content (key + ETag, so a replay of the same bytes counts too) is recorded,
 * and at the last allowed attempt the object is refused as `ingest-failed`, with an alert,
 * instead of failing again. A new upload of other bytes starts a fresh budget.
 */

export interface BudgetedRequest extends IngestRequest {
  eTag?: string;
}

export async function ingestWithRetryBudget<T>(
  deps: IngestDeps,
  request: BudgetedRequest,
  maxAttempts: number,
  work: (deps: IngestDeps, request: IngestRequest) => Promise<T>,
): Promise<T | Refused> {
  try {
    return await work(deps, request);
  } catch (error) {
    const now = deps.now ?? (() => new Date());
    const id = createHash('sha256')
      .update(`${request.key}\n${request.eTag ?? request.versionId ?? ''}`)
      .digest('hex')
      .slice(0, 32);
    const record = keys.ingestAttempts(id);
    const previous = (await findObject(deps.store, vaultObjects.ingestAttempts.at(record)))?.attempts ?? 0;
    const message = safeErrorMessage(error);
    const attempts = previous + 1;
    await putJson(deps.store, record, {
      key: request.key,
      etag: request.eTag ?? null,
      attempts,
      last_error: message,
      last_at: now().toISOString(),
    });
    if (attempts < maxAttempts) throw error;
    const outcome = await refuseObject(deps.store, request, 'ingest-failed', `${attempts} attempts failed; last: ${message}`, now());
    const stream = streamOfObjectKey(request.key);
    if (stream) {
      // Something is wrong beyond this file (the store, the engine): the stream halts until an operator resumes it.
      await haltForFailures(deps.store, deps.alerts, {
        stream,
        batch: null,
        key: request.key,
        versionId: request.versionId ?? null,
        reason: 'ingest-failed',
        at: now(),
        summary: `${request.key} failed ${attempts} times and is set aside`,
        details: { record: outcome.record, last_error: message },
      });
    } else {
      await deps.alerts.post({
        severity: 'SEV2',
        component: 'ingest',
        reason: 'ingest-failed',
        summary: `${request.key} failed ${attempts} times and is set aside (kept in the vault); replay it once the cause is fixed`,
        details: { key: request.key, record: outcome.record, last_error: message },
      });
    }
    return outcome;
  }
}
