import { UnsafeKeyError } from '../lib/errors.ts';
import { objectCreatedEvents } from '../lib/events/s3-event.ts';
import { ingestObject, type IngestOutcome } from '../lib/ingest/ingest-object.ts';
import { s3EventHandler } from './middleware/s3-event.ts';
import { config, logger, vault } from './runtime.ts';

type Result = IngestOutcome | { status: 'refused'; key: string; reason: string };

/** raw/<stream>/<file> uploaded -> fingerprint it and write the batch manifest. */
export const handler = s3EventHandler(async (event): Promise<Result[]> => {
  const results: Result[] = [];
  for (const object of objectCreatedEvents(event)) {
    if (object.bucket !== config.VAULT_BUCKET) {
      logger.warn('event for another bucket ignored', { bucket: object.bucket, key: object.key });
      continue;
    }
    try {
      const request = object.versionId ? { bucket: object.bucket, key: object.key, versionId: object.versionId } : object;
      const outcome = await ingestObject(vault, request);
      logger.info(outcome.status === 'ingested' ? 'batch ingested' : 'batch already ingested', {
        key: object.key,
        batch: outcome.batch,
        manifest: outcome.manifestKey,
      });
      results.push(outcome);
    } catch (error) {
      // A refused key is final: retrying cannot make it safe, so it is not thrown.
      if (!(error instanceof UnsafeKeyError)) throw error;
      logger.error('object refused', { key: object.key, code: error.code, reason: error.message });
      results.push({ status: 'refused', key: object.key, reason: error.code });
    }
  }
  return results;
});
