import type { Column, Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import type { Candidate } from './candidate.ts';
import { guardFor } from './guards.ts';
import { gateFunction } from './lambda-gate.ts';
import { failingRules } from './output-check.ts';
import type { Output, Sandbox, SandboxLimit } from './sandbox.ts';

/**
 * Measured confidence: a candidate is gated, applied in the sandbox to every distinct failing
 * input of its pattern, and each output is checked by the guards and then by the column
 * contract's own rules in the engine. The pass rate counts cells, not distinct values.
 */
export interface DistinctInput {
  value: string | null;
  /** The other columns a row-level candidate reads. */
  row?: Record<string, string | null>;
  cells: number;
}

/** The failing inputs of one pattern, distinct over the value and the columns a candidate reads. */
export interface PatternInputs {
  column: Column;
  distinct(reads: string[]): Promise<DistinctInput[]>;
}

export interface Outcome {
  input: DistinctInput;
  /** Text of each written column (the pattern's column first), or null. */
  writes: (string | null)[];
  /** 'ok', or why the value still fails: `rule:<code>`, a guard, `threw:<error>`, `bad-output`, `unchanged`. */
  verdict: string;
}

export interface Measurement {
  candidate: Candidate;
  gate: { accepted: true } | { accepted: false; reason: string; detail: string };
  stopped?: { limit: SandboxLimit; message: string };
  cells: number;
  passed: number;
  pass_rate: number;
  /** Cells per reason they still fail. */
  failures: Record<string, number>;
  outcomes: Outcome[];
}

export interface MeasureDeps {
  engine: Engine;
  sandbox: Sandbox;
  contract: Contract;
}

const asText = (value: Output | undefined): string | null | undefined => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
};

/** Whether `after` is `before` with `moved` (the value the pattern's column receives) cut off its end: nothing lost. */
function splitsOff(before: string, after: string | null, moved: string | null): boolean {
  if (after === null || moved === null || moved.trim() === '') return false;
  const whole = before.trim();
  return whole.startsWith(after) && whole.slice(after.length).trim() === moved.trim();
}

/** The other columns a candidate needs from the row: those it reads, and those it writes (their old values). */
export function readColumns(candidate: Candidate): string[] {
  return [...new Set([...(candidate.reads ?? []), ...(candidate.writes ?? []).slice(1)])];
}

export async function measure(deps: MeasureDeps, pattern: PatternInputs, candidate: Candidate): Promise<Measurement> {
  const writes = candidate.writes ?? [pattern.column.name];
  const reads = readColumns(candidate);
  const inputs = await pattern.distinct(reads);
  const cells = inputs.reduce((n, i) => n + i.cells, 0);
  const base = { candidate, cells, passed: 0, pass_rate: 0, outcomes: [] as Outcome[] };
  const verdict = gateFunction(candidate.source);
  if (!verdict.accepted) return { ...base, gate: { accepted: false, reason: verdict.reason, detail: verdict.detail }, failures: { [`gate:${verdict.reason}`]: cells } };

  const applied = await deps.sandbox.apply(
    verdict.source,
    inputs.map((i) => i.value),
    reads.length ? inputs.map((i) => ({ ...i.row, [pattern.column.name]: i.value })) : undefined,
  );
  if (applied.stopped) {
    return { ...base, gate: { accepted: true }, stopped: { limit: applied.limit, message: applied.message }, failures: { [`stopped:${applied.limit}`]: cells } };
  }
  const thrown = new Map(applied.errors);
  const columnsByName = new Map(deps.contract.columns.map((c) => [c.name, c]));
  const outcomes: Outcome[] = inputs.map((input, k) => {
    const error = thrown.get(k);
    if (error !== undefined) return { input, writes: [], verdict: error === 'bad-output' ? 'bad-output' : `threw:${error}` };
    const output = applied.outputs[k];
    const texts = candidate.writes
      ? writes.map((name) => (output !== null && typeof output === 'object' && Object.hasOwn(output, name) ? asText(output[name]) : undefined))
      : [asText(output ?? null)];
    if (texts.some((t) => t === undefined) || (candidate.writes && (output === null || typeof output !== 'object'))) return { input, writes: [], verdict: 'bad-output' };
    const values = texts as (string | null)[];
    const before = writes.map((name, i) => (i === 0 ? input.value : (input.row?.[name] ?? null)));
    if (values.every((v, i) => v === before[i])) return { input, writes: values, verdict: 'unchanged' };
    for (const [i, name] of writes.entries()) {
      if (values[i] === before[i]) continue;
      // Another column may be written only where it was empty, or to split off what this column receives:
      // values that already passed are never otherwise touched.
      if (i > 0 && (before[i] ?? '').trim() !== '' && !splitsOff(before[i]!, values[i] ?? null, values[0] ?? null)) {
        return { input, writes: values, verdict: 'guard:overwrote-value' };
      }
      // A row-level function may move text between the columns it reads: all of them are its input.
      const source = candidate.writes ? [input.value ?? '', ...Object.values(input.row ?? {}).map((v) => v ?? '')].join(' ') : input.value;
      const guard = guardFor(columnsByName.get(name)!, deps.contract, source, values[i]!);
      if (guard) return { input, writes: values, verdict: `guard:${guard}` };
    }
    return { input, writes: values, verdict: 'ok' };
  });
  const checked = outcomes.filter((o) => o.verdict === 'ok');
  const broken = await failingRules(deps.engine, deps.contract, writes, checked.map((o) => o.writes));
  checked.forEach((o, i) => {
    const rules = broken[i] ?? [];
    if (rules.length) o.verdict = `rule:${rules[0]}`;
  });
  const failures: Record<string, number> = {};
  let passed = 0;
  for (const o of outcomes) {
    if (o.verdict === 'ok') passed += o.input.cells;
    else failures[o.verdict] = (failures[o.verdict] ?? 0) + o.input.cells;
  }
  return { ...base, gate: { accepted: true }, passed, pass_rate: cells ? passed / cells : 0, failures, outcomes };
}
