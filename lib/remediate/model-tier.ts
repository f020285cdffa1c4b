import type { Candidate } from './candidate.ts';
import { maskValue } from './mask-pii.ts';
import { measure, type MeasureDeps, type Measurement, type PatternInputs } from './measure.ts';
import type { CircuitBreaker } from './model/circuit-breaker.ts';
import { parseModelAnswer, type ModelAnswer } from './model/model-answer.ts';
import { ModelUnavailableError, type ModelIdentity, type OllamaModel } from './model/ollama-model.ts';
import { buildMessages, type PromptSample, type RepairContext } from './model/prompt.ts';

/**
 * The model tier with its repair loop: ask for a function, gate and measure it like any
 * other candidate, and when it is refused or measures below the threshold, ask again with
 * the reason, the failing samples and what the function made of them — up to `rounds`
 * times. Every round is one model call. Transport failures feed the circuit breaker.
 */
export interface ModelTierDeps {
  model: OllamaModel;
  identity: ModelIdentity;
  breaker: CircuitBreaker;
  rounds: number;
  threshold: number;
  /** Key of the PII masking in this call (prompts only ever carry masked values of pii columns). */
  maskKey: string;
}

// A type, not an interface: it must fit the decision's `Record<string, unknown>` rounds.
export type RoundRecord = {
  round: number;
  transformation?: string;
  pattern_type?: string;
  model_score?: number;
  pass_rate?: number;
  confidence?: number;
  problem?: string;
};

export type ModelTierOutcome =
  | { status: 'accepted'; measurement: Measurement; answer: ModelAnswer; confidence: number; calls: number; rounds: RoundRecord[] }
  | {
      status: 'no-good-function';
      best: { measurement: Measurement; answer: ModelAnswer; confidence: number } | undefined;
      calls: number;
      rounds: RoundRecord[];
    }
  | { status: 'unavailable'; reason: string; calls: number; rounds: RoundRecord[] };

const FAILING_EXAMPLES = 5;

export async function askModel(
  deps: ModelTierDeps,
  measureDeps: MeasureDeps,
  pattern: PatternInputs & { rule: string; pii: boolean; samples: PromptSample[] },
): Promise<ModelTierOutcome> {
  const mask = (value: string | null) => (value !== null && pattern.pii ? maskValue(value, deps.maskKey) : value);
  const samples = pattern.samples.map((s) => ({ ...s, value: mask(s.value) }));
  const rounds: RoundRecord[] = [];
  let calls = 0;
  let repair: RepairContext | undefined;
  let best: { measurement: Measurement; answer: ModelAnswer; confidence: number } | undefined;
  for (let round = 1; round <= deps.rounds; round++) {
    if (deps.breaker.open)
      return { status: 'unavailable', reason: 'circuit breaker open: the model failed too many times in a row', calls, rounds };
    let content: string;
    try {
      calls += 1;
      content = await deps.model.ask(buildMessages({ column: pattern.column, rule: pattern.rule, samples, ...(repair ? { repair } : {}) }));
      deps.breaker.recordSuccess();
    } catch (error) {
      if (!(error instanceof ModelUnavailableError)) throw error;
      deps.breaker.recordFailure();
      rounds.push({ round, problem: error.message });
      return { status: 'unavailable', reason: error.message, calls, rounds };
    }
    const parsed = parseModelAnswer(content);
    if ('problem' in parsed) {
      rounds.push({ round, problem: `${parsed.problem}: ${parsed.detail}` });
      repair = {
        transformation: content.slice(0, 500),
        problem: `the answer was not JSON in the required shape (${parsed.problem}: ${parsed.detail})`,
        failing: [],
      };
      continue;
    }
    const { answer } = parsed;
    const candidate: Candidate = { name: `model:${answer.pattern_type.slice(0, 60)}`, source: answer.transformation };
    const measurement = await measure(measureDeps, pattern, candidate);
    const confidence = Math.min(answer.confidence_score, measurement.pass_rate);
    const record: RoundRecord = {
      round,
      transformation: answer.transformation,
      pattern_type: answer.pattern_type,
      model_score: answer.confidence_score,
      pass_rate: measurement.pass_rate,
      confidence,
    };
    if (!best || confidence > best.confidence) best = { measurement, answer, confidence };
    if (confidence >= deps.threshold) {
      rounds.push(record);
      return { status: 'accepted', measurement, answer, confidence, calls, rounds };
    }
    const problem = !measurement.gate.accepted
      ? `the gate refused it: ${measurement.gate.reason} (${measurement.gate.detail})`
      : measurement.stopped
        ? `the sandbox stopped it: ${measurement.stopped.limit}`
        : `only ${(measurement.pass_rate * 100).toFixed(1)}% of the values pass the contract (confidence ${confidence.toFixed(2)} < ${deps.threshold})`;
    rounds.push({ ...record, problem });
    const failing = measurement.outcomes
      .filter((o) => o.verdict !== 'ok')
      .slice(0, FAILING_EXAMPLES)
      .map((o) => ({ input: mask(o.input.value), output: JSON.stringify(o.writes.map(mask)), verdict: o.verdict }));
    repair = { transformation: answer.transformation, problem, failing };
  }
  return { status: 'no-good-function', best, calls, rounds };
}
