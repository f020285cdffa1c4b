import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ClusterSpec } from '../vault/cluster-spec.ts';
import { ModelTierSchema, type Decision } from '../vault/decision.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { candidateOf, type Candidate } from './candidate.ts';
import { findRegistered, patternSignature } from './function-registry.ts';
import { measure, type MeasureDeps, type Measurement } from './measure.ts';
import { askModel, type RoundRecord } from './model-tier.ts';
import type { ModelAccess } from './model/model-access.ts';
import { ModelUnavailableError } from './model/ollama-model.ts';
import { synthesize, type Synthesis } from './synthesizer.ts';
import { LOSSY_CANDIDATES } from './synthesizer-catalog.ts';
import { domainCandidate, evidenceCandidate, lookupDigest } from './evidence-function.ts';
import { DOMAIN_FREQUENT_ROWS } from '../evidence/discover-rules.ts';
import type { DependencySummary } from '../vault/cluster-result.ts';
import type { PatternTable } from './pattern-table.ts';
import { findObject, putObjectIfAbsent } from '../vault/vault-object.ts';
import { vaultObjects } from '../vault/objects.ts';

/**
 * The tiers, cheapest first: the registry's approved function for this pattern, then the
 * synthesizer, then the model, then a person. Each proposal is measured alike; the first
 * whose confidence reaches the threshold is taken. The decision is stored before any output
 * is written (`decisions/<batch>/<cluster>.json`): a retried invocation applies the same
 * function, so it writes the same objects, even though a model might answer otherwise.
 */
/** Synthesizer functions whose rival reads the data otherwise, or that delete visible characters (LOSSY_CANDIDATES), cannot be trusted above this. */
export const AMBIGUOUS_CONFIDENCE = 0.5;

export interface DecideDeps extends MeasureDeps {
  store: ObjectStore;
  threshold: number;
  model: ModelAccess | undefined;
  now: () => Date;
  /** Says, once per batch, why the model tier is skipped. */
  notice: (message: string, fields: Record<string, unknown>) => void;
}

const asFunction = (c: Candidate) => ({
  name: c.name,
  source: c.source,
  reads: c.reads ?? [],
  writes: c.writes ?? [],
  ...(c.lookup ? { lookup: c.lookup } : {}),
});

export interface Decided {
  decision: Decision;
  measurement: Measurement | undefined;
}

async function modelTierStanding(deps: DecideDeps, batch: string): Promise<z.infer<typeof ModelTierSchema> | undefined> {
  return findObject(deps.store, vaultObjects.modelTier.at(batch));
}

async function markModelTier(
  deps: DecideDeps,
  batch: string,
  status: z.infer<typeof ModelTierSchema>['status'],
  reason: string,
): Promise<void> {
  const written = await putObjectIfAbsent(deps.store, vaultObjects.modelTier.at(batch), { status, reason, at: deps.now().toISOString() });
  if (!written.created) return;
  deps.notice(`model tier skipped for batch ${batch}: ${reason}`, { batch, status });
}

export async function decide(deps: DecideDeps, spec: ClusterSpec, pattern: PatternTable): Promise<Decided> {
  const decidedAt = deps.now().toISOString();
  const base: DecisionBase = { schema_version: 1, model: null, model_calls: 0, rounds: [] as RoundRecord[], decided_at: decidedAt };
  const fix = (
    tier: Decision['tier'],
    m: Measurement,
    confidence: number,
    extra: Partial<Decision>,
    tried: Decision['tried'],
  ): Decided => ({
    decision: {
      ...base,
      tier,
      disposition: 'fix',
      function: asFunction(m.candidate),
      confidence,
      reason: `${tier}: ${m.candidate.name} measured at ${(m.pass_rate * 100).toFixed(1)}%`,
      tried,
      ...extra,
    },
    measurement: m,
  });

  // Evidence from other rows: its own tier of one candidate (no registry: the table is this batch's).
  if (spec.rule === 'dependency' || spec.rule === 'domain') return decideFromEvidence(deps, pattern, spec.rule, base, fix);
  // Contested evidence is a question for a person, with the evidence: no function and no model can settle it.
  if (spec.rule === 'dependency-contested') {
    const reason = `the evidence of ${pattern.column.name}'s dependency is contested (no value is strong enough in its group): a person decides`;
    return forReview(base, { reason });
  }

  // 1. Registry.
  const signature = patternSignature(
    spec.column,
    spec.rule,
    spec.shapes.map((s) => s.shape),
  );
  const registered = await findRegistered(deps.store, spec.stream, signature);
  const tried: Decision['tried'] = [];
  if (registered) {
    const m = await measure(deps, pattern, candidateOf(registered.function));
    tried.push({
      name: `registry:${registered.function.name}`,
      pass_rate: m.pass_rate,
      gate: m.gate.accepted ? 'accepted' : m.gate.reason,
    });
    if (m.pass_rate >= deps.threshold) return fix('registry', m, m.pass_rate, {}, tried);
  }

  // 2. Synthesizer.
  const synthesis: Synthesis = await synthesize(deps, pattern);
  tried.push(...synthesis.tried);
  const best = synthesis.best;
  const capped = best && (synthesis.ambiguous_with || LOSSY_CANDIDATES.has(best.candidate.name));
  const synthConfidence = best ? (capped ? Math.min(best.pass_rate, AMBIGUOUS_CONFIDENCE) : best.pass_rate) : 0;
  if (best && synthConfidence >= deps.threshold) return fix('synthesizer', best, synthConfidence, {}, tried);
  const ambiguity = synthesis.ambiguous_with && best ? { ambiguous_with: `${best.candidate.name} / ${synthesis.ambiguous_with}` } : {};

  // 3. Model.
  const review = (disposition: 'needs-review' | 'llm-unavailable', reason: string, extra: Partial<Decision> = {}): Decided =>
    forReview(base, { disposition, confidence: Math.max(synthConfidence, 0), reason, tried, ...ambiguity, ...extra });
  const bestSoFar = best
    ? `best synthesized function ${best.candidate.name} measured ${(best.pass_rate * 100).toFixed(1)}%`
    : 'no synthesized function made any value pass';
  // A key is identity, not data to repair: no function may write it (writes-primary-key), so no model is asked.
  if (pattern.column.primary_key)
    return review(
      'needs-review',
      `${bestSoFar}; ${pattern.column.name} is the primary key: identity, not data to repair (writes-primary-key)`,
    );
  if (!deps.model) {
    await markModelTier(deps, spec.batch, 'not-configured', 'no model host configured (OLLAMA_HOST)');
    return review('needs-review', `${bestSoFar}; model tier not configured`);
  }
  const standing = await modelTierStanding(deps, spec.batch);
  if (standing?.status === 'unavailable') return review('llm-unavailable', `model unavailable for this batch: ${standing.reason}`);
  if (standing?.status === 'unreachable') return review('needs-review', `${bestSoFar}; model unreachable: ${standing.reason}`);
  let identity;
  try {
    identity = await deps.model.identify();
  } catch (error) {
    if (!(error instanceof ModelUnavailableError)) throw error;
    await markModelTier(deps, spec.batch, 'unreachable', error.message);
    return review('needs-review', `${bestSoFar}; model unreachable: ${error.message}`);
  }
  const outcome = await askModel(
    {
      model: deps.model.model,
      identity,
      breaker: deps.model.breaker,
      rounds: deps.model.rounds,
      threshold: deps.threshold,
      maskKey: randomBytes(16).toString('hex'),
    },
    deps,
    Object.assign(pattern, { rule: spec.rule, pii: spec.pii, samples: spec.samples.map((s) => ({ value: s.value, shape: s.shape })) }),
  );
  const modelFields = { model: identity, model_calls: outcome.calls, rounds: outcome.rounds };
  if (outcome.status === 'accepted') {
    return fix(
      'model',
      outcome.measurement,
      outcome.confidence,
      { ...modelFields, reason: `model: ${outcome.answer.reasoning.slice(0, 300)}` },
      tried,
    );
  }
  if (outcome.status === 'unavailable') {
    if (deps.model.breaker.open) await markModelTier(deps, spec.batch, 'unavailable', outcome.reason);
    return review('llm-unavailable', `model unavailable: ${outcome.reason}`, modelFields);
  }
  const last = outcome.best ? `; best model function measured confidence ${outcome.best.confidence.toFixed(2)}` : '';
  return review(
    'needs-review',
    `${bestSoFar}; ${outcome.calls} model call(s) gave no function at or above ${deps.threshold}${last}`,
    modelFields,
  );
}

/** What every decision of one remediation shares: the schema, the time, and (until the model tier) no model. */
type DecisionBase = Pick<Decision, 'schema_version' | 'model' | 'model_calls' | 'rounds' | 'decided_at'>;

/**
 * A decision that leaves the cluster to a person: no function, tier `review`, `needs-review`
 * with confidence 0 and nothing tried unless `fields` says otherwise (the one builder of every
 * path that ends in review).
 */
function forReview(base: DecisionBase, fields: Partial<Decision> & { reason: string }): Decided {
  const decision: Decision = { ...base, tier: 'review', disposition: 'needs-review', function: null, confidence: 0, tried: [], ...fields };
  return { decision, measurement: undefined };
}

type Fix = (tier: Decision['tier'], m: Measurement, confidence: number, extra: Partial<Decision>, tried: Decision['tried']) => Decided;

/**
 * A dependency cluster: "the group's dominant value" with the batch's strong evidence as its table,
 * measured like every candidate. Confidence is the lower of the pass rate and the winning values'
 * mean share of their groups' votes; below the threshold, or with no strong evidence, a person
 * decides with the evidence shown. The model is not asked: the evidence is the whole case.
 */
async function decideFromEvidence(
  deps: DecideDeps,
  pattern: PatternTable,
  rule: 'dependency' | 'domain',
  base: DecisionBase,
  fix: Fix,
): Promise<Decided> {
  const review = (reason: string, extra: Partial<Decision> = {}): Decided => forReview(base, { reason, ...extra });
  const found = await evidenceFor(pattern, rule);
  if (!found) return review(`no strong evidence for ${pattern.column.name}:${rule}`);
  const { candidate, dependency, share } = found;
  const m = await measure(deps, pattern, candidate);
  const tried = [{ name: candidate.name, pass_rate: m.pass_rate, gate: m.gate.accepted ? 'accepted' : m.gate.reason }];
  const confidence = Math.min(m.pass_rate, share);
  if (m.gate.accepted && confidence >= deps.threshold) return fix('synthesizer', m, confidence, { dependency }, tried);
  return review(
    `${candidate.name} measured ${(m.pass_rate * 100).toFixed(1)}% with mean share ${share.toFixed(2)}: below ${deps.threshold}`,
    { confidence: Math.max(confidence, 0), dependency, tried },
  );
}

/** The evidence function of a dependency or domain cluster, what backs it, and the winners' mean share. */
async function evidenceFor(
  pattern: PatternTable,
  rule: 'dependency' | 'domain',
): Promise<{ candidate: Candidate; dependency: DependencySummary; share: number } | undefined> {
  if (rule === 'domain') {
    const d = await pattern.domainLookup();
    if (!d || d.values === 0) return undefined;
    const dependency: DependencySummary = {
      rules: [`domain:${pattern.column.name}`],
      determinant: [],
      lookup_sha256: lookupDigest(d.lookup),
      groups: d.values,
      contested_groups: 0,
      cells: d.cells,
      min_share: d.min_share,
      mean_share: d.mean_share,
      min_support: DOMAIN_FREQUENT_ROWS,
      min_margin: d.min_share,
    };
    return { candidate: domainCandidate(`nearest-frequent:${pattern.column.name}`, d.lookup), dependency, share: d.mean_share };
  }
  const e = await pattern.dependencyLookup();
  if (!e || e.groups === 0) return undefined;
  const { lookup, ...figures } = e;
  const candidate = evidenceCandidate(`group-dominant:${e.rules.join(',')}`, e.determinant, lookup);
  return { candidate, dependency: { ...figures, lookup_sha256: lookupDigest(lookup) }, share: e.mean_share };
}

/** The stored decision for a cluster, if an earlier invocation took one (the first one written stands). */
export async function storedDecision(store: ObjectStore, batch: string, cluster: string): Promise<Decision | undefined> {
  return findObject(store, vaultObjects.decision.at(batch, cluster));
}

/**
 * Stores a cluster's decision, first writer wins: when another delivery decided first (a model
 * may answer two deliveries differently), its decision stands and is returned instead of ours.
 */
export async function storeDecision(store: ObjectStore, batch: string, cluster: string, decision: Decision): Promise<Decision> {
  const written = await putObjectIfAbsent(store, vaultObjects.decision.at(batch, cluster), decision);
  return written.created ? decision : written.value;
}
