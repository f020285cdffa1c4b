import { PROPOSAL_ID } from '../../contract/schema-proposals.ts';
import { STREAM_NAME } from '../../keys.ts';
/** A batch id, as lib/keys.ts names batches (`<stream>-<20 hex>`). */
export const BATCH_ID = /^[a-z0-9][a-z0-9_-]{0,62}-[0-9a-f]{20}$/;
/** A cluster id (`c-<16 hex>`). */
export const CLUSTER_ID = /^c-[0-9a-f]{16}$/;

/** The page a path names, `bad` (a malformed id: 400, with what is wrong) or `none` (404). */
export type ReviewRoute =
  | { page: 'overview' }
  | { page: 'batch'; batch: string }
  | { page: 'cluster'; batch: string; cluster: string }
  | { page: 'schema-proposals'; stream: string }
  | { page: 'schema-proposal'; stream: string; id: string }
  | { page: 'bad'; why: string }
  | { page: 'none' };

function segment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** `/review/streams/<stream>/proposals` and `/review/streams/<stream>/proposals/<id>`, each id checked; undefined for another path. */
function matchStreamPath(path: string): ReviewRoute | undefined {
  const match = /^\/review\/streams\/([^/]+)\/proposals(?:\/([^/]+))?$/.exec(path);
  if (!match) return undefined;
  const stream = segment(match[1]!);
  if (stream === undefined || !STREAM_NAME.test(stream)) return { page: 'bad', why: 'not a stream name ([a-z0-9][a-z0-9_-], at most 63)' };
  if (match[2] === undefined) return { page: 'schema-proposals', stream };
  const id = segment(match[2]);
  if (id === undefined || !PROPOSAL_ID.test(id)) return { page: 'bad', why: 'not a schema proposal id (16 hex digits)' };
  return { page: 'schema-proposal', stream, id };
}

/**
 * Matches `/review`, `/review/batches/<batch>`, `/review/batches/<batch>/clusters/<cluster>`,
 * `/review/streams/<stream>/proposals` and `/review/streams/<stream>/proposals/<id>`, checking each id.
 */
export function matchPath(path: string): ReviewRoute {
  if (path === '/review') return { page: 'overview' };
  const streamRoute = matchStreamPath(path);
  if (streamRoute) return streamRoute;
  const match = /^\/review\/batches\/([^/]+)(?:\/clusters\/([^/]+))?$/.exec(path);
  if (!match) return { page: 'none' };
  const batch = segment(match[1]!);
  if (batch === undefined || !BATCH_ID.test(batch)) return { page: 'bad', why: 'not a batch id (<stream>-<20 hex digits>)' };
  if (match[2] === undefined) return { page: 'batch', batch };
  const cluster = segment(match[2]);
  if (cluster === undefined || !CLUSTER_ID.test(cluster)) return { page: 'bad', why: 'not a cluster id (c-<16 hex digits>)' };
  return { page: 'cluster', batch, cluster };
}
