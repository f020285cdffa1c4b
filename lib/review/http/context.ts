import type { ReviewService } from './service.ts';

/** What the router needs: the service, the configured operator token (undefined: the page is off), and a log line sink. */
export interface ReviewContext {
  service: ReviewService;
  token: string | undefined;
  log?: (level: 'info' | 'error', message: string, fields: Record<string, unknown>) => void;
}
