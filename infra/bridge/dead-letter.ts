import type { Alert } from '../../lib/alerts/alerts.ts';
import type { StoreS3Event } from '../../lib/events/s3-event.ts';
import type { FailedAttempt } from './queue-store.ts';

/** What `<dead dir>/<fn>/<file>` holds: an event whose every attempt failed, for an operator to replay or drop. */
export interface DeadLetterRecord {
  function: string;
  function_name: string;
  queue_file: string;
  received_at: string;
  dead_lettered_at: string;
  keys: string[];
  /** Each failed attempt: when it started and ended, the status, the (redacted) error. */
  attempts: FailedAttempt[];
  event: StoreS3Event;
}

/** The SEV2 alert for a dead letter: names, keys and the last error, never row values. */
export function deadLetterAlert(record: DeadLetterRecord, path: string): Alert {
  const last = record.attempts.at(-1);
  const more = record.keys.length > 3 ? ` and ${record.keys.length - 3} more` : '';
  const shown = `${record.keys.slice(0, 3).join(', ')}${more}`;
  return {
    severity: 'SEV2',
    component: 'event-bridge',
    reason: 'invocation-failed',
    summary: `${record.function_name} failed ${record.attempts.length} times for ${shown}; the event is dead-lettered`,
    details: {
      function: record.function_name,
      keys: record.keys,
      attempts: record.attempts.length,
      last_error: last?.error ?? null,
      dead_letter: path,
    },
  };
}
