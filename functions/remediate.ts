import { objectCreatedEvents } from '../lib/events/s3-event.ts';
import { s3EventHandler } from './middleware/s3-event.ts';
import { logger } from './runtime.ts';

/**
 * work/<batch>/clusters/<cluster>.json written -> verify and apply a transformation function.
 * Wired into the event path; the step itself is not built yet, so it only records what it received.
 */
export const handler = s3EventHandler(async (event) => {
  const objects = objectCreatedEvents(event);
  for (const object of objects) logger.info('remediate: received (step not implemented yet)', { key: object.key });
  return { status: 'not-implemented' as const, received: objects.map((o) => o.key) };
});
