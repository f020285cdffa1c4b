import type { DecisionNote } from './views.ts';

/** ` (applied)` or ` (not applied yet)` once the domain says whether a reconcile revision includes the decision; '' before. */
export function appliedNote(decision: DecisionNote): string {
  if (decision.applied === undefined) return '';
  return decision.applied ? ' (applied)' : ' (not applied yet)';
}
