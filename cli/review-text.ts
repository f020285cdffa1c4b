import type { Proposal } from '../lib/review/proposal.ts';
import type { ClusterEvidence } from '../lib/review/cluster-evidence.ts';
import type { ReviewDecision } from '../lib/vault/review-decision.ts';
import { count, fields, indent, percent, table } from './output.ts';

/** A value as the review shows it: quoted, `null` for no value. */
const shown = (value: string | null): string => (value === null ? 'null' : JSON.stringify(value));

/** A measured function in one line: `date:d-m-y  4/4 cells (100%)` and why it stopped or failed. */
export function measuredText(p: Proposal): string {
  const gate = p.gate.accepted ? '' : `, refused by the gate: ${p.gate.reason} (${p.gate.detail})`;
  const stopped = p.stopped ? `, stopped: ${p.stopped}` : '';
  const failures = Object.entries(p.failures).map(([why, n]) => `${why} ${n}`);
  return `${p.name}: ${p.passed}/${p.cells} cells pass (${percent(p.pass_rate)})${gate}${stopped}${failures.length ? `; failing: ${failures.join(', ')}` : ''}`;
}

/** Up to five before/after examples of a measured function, indented. */
function examplesTable(p: Proposal): string {
  const rows = p.examples.slice(0, 5).map((e) => [shown(e.before), '->', e.after.map(shown).join(', '), e.verdict]);
  return rows.length ? indent(table(rows)) : '';
}

/** A measured function with a few of its before/after examples (an edited function's preview). */
export function previewText(p: Proposal): string {
  return `measured: ${measuredText(p)}\n${examplesTable(p)}`;
}

/** A decision in one line: who, when, what. */
export function decisionText(d: ReviewDecision): string {
  const what = d.action === 'reject' ? `rejected: ${d.reason}` : `${d.action} ${d.function?.name ?? d.candidate ?? ''}`.trim();
  return `${what} by ${d.operator} at ${d.at}`;
}

/** The proposals as a table, then a few before/after examples of the best. */
function proposalsText(proposals: Proposal[]): string {
  if (proposals.length === 0) return 'proposals none\n';
  const rows = proposals.map((p) => [
    p.name,
    p.origin,
    p.gate.accepted ? 'accepted' : p.gate.reason,
    `${p.passed}/${p.cells}`,
    percent(p.pass_rate),
    p.stopped,
  ]);
  const best = proposals[0]!;
  const examples = examplesTable(best);
  return (
    `proposals\n${indent(table(rows, ['candidate', 'origin', 'gate', 'passed', 'rate', 'stopped']))}` +
    (examples ? `examples of ${best.name}\n${examples}` : '')
  );
}

/** What the automatic tiers did: the outcome, what they tried, the model's reasoning (or that no result is in yet). */
function tiersText(r: ClusterEvidence['result']): { line: string; detail: string } {
  if (!r) return { line: 'no result yet: remediate has not finished the cluster', detail: '' };
  const line = `${r.disposition} (${r.tier} tier, confidence ${r.confidence}, threshold ${r.threshold}): ${r.reason}${r.model ? `; model ${r.model}` : ''}`;
  const rows = r.tried.map((t) => [t.name, t.gate, percent(t.pass_rate), t.stopped]);
  const tried = rows.length ? `tried\n${indent(table(rows, ['candidate', 'gate', 'rate', 'stopped']))}` : '';
  const reasoning = r.reasoning.length ? `model reasoning\n${r.reasoning.map((x, i) => indent(`${i + 1}. ${x}\n`)).join('')}` : '';
  return { line, detail: [tried, reasoning].filter(Boolean).join('\n') };
}

/** The evidence of a cluster as text, ending with the commands that settle it. */
export function evidenceText(e: ClusterEvidence): string {
  const tiers = tiersText(e.result);
  const head = fields([
    ['cluster', `${e.cluster} of ${e.batch}`],
    ['column', `${e.column}${e.pii ? ' (pii: values masked)' : ''}`],
    ['rule', e.rule],
    ['cells', e.cells],
    ['shapes', e.shapes.map((s) => `${s.shape} x${s.cells}`).join('  ')],
    ['result', tiers.line],
    ['ambiguous', e.ambiguous_with],
  ]);
  const samples = table(
    e.samples.map((s) => [shown(s.value), s.shape, s.occurrences]),
    ['sample', 'shape', 'occurrences'],
  );
  return [head, samples, tiers.detail, proposalsText(e.proposals), settleText(e)].filter(Boolean).join('\n');
}

/** Where the cluster stands: its decision, or why it cannot be decided, or the commands that decide it. */
function settleText(e: ClusterEvidence): string {
  if (e.decision)
    return `decided: ${decisionText(e.decision)}\n${e.reviewed ? `re-remediated: ${e.reviewed.disposition}, ${count(e.reviewed.counts.cells, 'cell')}\n` : 're-remediation pending\n'}`;
  if (!e.reviewable.ok) return `not reviewable now: ${e.reviewable.why}\n`;
  const best = e.ambiguous_with ? 'NAME' : (e.proposals[0]?.name ?? 'NAME');
  const choose = e.ambiguous_with ? `  (the readings fit alike: choose one of ${e.ambiguous_with})` : '';
  return (
    `approve: vaultmend approve ${e.batch} ${e.cluster} --candidate ${best}${choose}\n` +
    `edit:    vaultmend approve ${e.batch} ${e.cluster} --function-file FILE [--yes]\n` +
    `reject:  vaultmend reject ${e.batch} ${e.cluster} --reason TEXT\n`
  );
}
