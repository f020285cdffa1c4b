import type { ClusterEvidence } from '../cluster-evidence.ts';
import type { Proposal } from '../proposal.ts';
import { decisionForms } from './decision-forms.ts';
import { decisionSummary } from './decision-summary.ts';
import { evidenceSections } from './evidence-sections.ts';
import type { FormContext } from './form-fields.ts';
import { html } from './html.ts';
import { layout } from './layout.ts';
import { reviewLinks } from './links.ts';
import { previewSection, refusedSection } from './outcome-sections.ts';
import { proposalsTable } from './proposals-table.ts';

/** What a POST came to, shown on top of the cluster's page: an edit measured (preview) or a refusal. */
export type ShownOutcome =
  | { status: 'preview'; measured: Proposal; note?: string }
  | { status: 'refused'; reason: string; measured: Proposal | null; source?: string };

/** Options of the cluster page: the token and operator for the forms, and an outcome to show. */
export interface ClusterPageOptions {
  token: string;
  operator?: string;
  outcome?: ShownOutcome;
}

function outcomeSection(outcome: ShownOutcome, ctx: FormContext) {
  return outcome.status === 'preview'
    ? previewSection(outcome.measured, ctx, outcome.note)
    : refusedSection(outcome.reason, outcome.measured);
}

/**
 * A cluster waiting for review: its evidence, the proposals measured, the decision if taken
 * (`#decision`), and the forms while it is reviewable; an edit's preview or a refusal on top.
 */
export function clusterPage(evidence: ClusterEvidence, options: ClusterPageOptions): string {
  const { batch, cluster } = evidence;
  const ctx: FormContext = {
    action: reviewLinks.cluster(batch, cluster),
    token: options.token,
    ...(options.operator ? { operator: options.operator } : {}),
  };
  const outcome = options.outcome;
  const shown = outcome ? outcomeSection(outcome, ctx) : '';
  const edited = outcome?.status === 'preview' ? outcome.measured.source : outcome?.source;
  const decide = evidence.reviewable.ok
    ? decisionForms(evidence, ctx, edited)
    : html`<p id="not-reviewable">Not reviewable: ${evidence.reviewable.why}</p>`;
  const body = html`<p><a href="${reviewLinks.batch(batch)}">batch ${batch}</a></p>
<h1>Cluster <code>${cluster}</code></h1>
${shown}
${evidence.decision ? decisionSummary(evidence.decision, evidence.reviewed) : ''}
${evidenceSections(evidence)}
<h2>Proposals</h2>
${proposalsTable(evidence.proposals)}
${decide}`;
  return layout(`cluster ${cluster} of ${batch}`, body);
}
