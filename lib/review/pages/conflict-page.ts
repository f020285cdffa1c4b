import type { ReviewDecision } from '../../vault/review-decision.ts';
import { decisionSummary } from './decision-summary.ts';
import { html } from './html.ts';
import { reviewLinks } from './links.ts';
import { messagePage } from './message-page.ts';

/** Someone decided first (409): who, what and when, and links to the cluster and its batch. Nothing of this request was written. */
export function conflictPage(decision: ReviewDecision): string {
  const links = html`${decisionSummary(decision)}
<p><a href="${reviewLinks.cluster(decision.batch, decision.cluster)}">the cluster</a> · <a href="${reviewLinks.batch(decision.batch)}">the batch</a></p>`;
  return messagePage(
    'Already decided',
    `${decision.operator} decided this cluster first (${decision.action} at ${decision.at}); your decision was not written.`,
    links,
  );
}
