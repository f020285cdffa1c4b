import { keys } from '../keys.ts';

/**
 * Which reconcile of the batch this is: revision 0, the first (the tiers' results), or revision
 * n >= 1 after people's decisions. A revision's audit object is chained to the root of the one
 * before it and holds the lines of the rows its newly reviewed clusters touch; its curated part
 * holds only the rows no earlier part holds, so each row is in exactly one part.
 */
export interface Round {
  revision: number;
  auditKey: string;
  /** The hash the audit object's first line is chained to (revision 0: the batch's genesis). */
  chainedTo?: string;
  /** The cells objects (keys) of the clusters this revision newly covers: the rows whose audit lines it writes (revision 0: every row). */
  touched?: string[];
  curatedKey: string;
  /** Curated parts promoted by earlier revisions (keys). */
  promotedParts: string[];
}

/** Revision 0: the batch's first reconcile. */
export const firstRound = (stream: string, batch: string): Round => ({
  revision: 0,
  auditKey: keys.audit(stream, batch),
  curatedKey: keys.curated(stream, batch),
  promotedParts: [],
});
