import type { Column, Contract } from '../contract/contract.ts';
import type { Engine } from '../engine/duckdb.ts';
import type { Candidate } from './candidate.ts';
import { refuseWrites } from './check-function.ts';
import { lookupDigest, namedDigest } from './evidence-function.ts';
import { guardFor, movedTokenGuard, receivesForeignText } from './guards.ts';
import { gateFunction } from './lambda-gate.ts';
import { failingRules } from './output-check.ts';
import type { Output, Sandbox, SandboxLimit } from './sandbox.ts';
import { SandboxOverloadedError } from '../errors.ts';

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

/** What a candidate made of one distinct input, and whether that passes. */
export interface Outcome {
  input: DistinctInput;
  /** Text of each written column (the pattern's column first), or null. */
  writes: (string | null)[];
  /** 'ok', or why the value still fails: `rule:<code>`, a guard, `threw:<error>`, `bad-output`, `unchanged`. */
  verdict: string;
}

/** A candidate measured on the whole pattern: the gate's verdict, cells passed, and why the others fail. */
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

/** What measuring needs: the engine for the contract's rules, the sandbox, the stream's contract. */
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

/** Fewest distinct rows that must show a moved token before the move counts as the cluster's pattern. */
export const MOVE_MIN_ROWS = 2;
/** Share of the cells a move could apply to (its receiver empty, other text in the row) that it must cover. */
export const MOVE_MIN_SHARE = 0.9;

const blank = (text: string | null | undefined) => (text ?? '').trim() === '';
const cellsOf = (outcomes: Outcome[]) => outcomes.reduce((n, o) => n + o.input.cells, 0);

/** The text column `writes[i]` held before the function ran. */
function beforeOf(outcome: Outcome, writes: string[], i: number): string | null {
  return i === 0 ? outcome.input.value : (outcome.input.row?.[writes[i]!] ?? null);
}

/** Whether the row holds text outside column `writes[i]` (the function's own value included) that could have moved into it. */
function hasOtherText(outcome: Outcome, writes: string[], i: number): boolean {
  const others = Object.entries(outcome.input.row ?? {})
    .filter(([name]) => name !== writes[i])
    .map(([, v]) => v);
  return [...(i === 0 ? [] : [outcome.input.value]), ...others].some((v) => !blank(v));
}

/**
 * A row-level function moves tokens into an empty column only as a consistent pattern of the
 * cluster: where the receiver was empty and the row had other text, it must have moved a token
 * in at least MOVE_MIN_SHARE of those cells and in MOVE_MIN_ROWS distinct rows. Otherwise the
 * donor values do not show the shape (one note that happens to end in "OK" is no state), and
 * every move is refused as `guard:split-not-a-pattern`.
 */
function refuseInconsistentMoves(outcomes: Outcome[], writes: string[]): void {
  writes.forEach((_, i) => {
    const eligible = outcomes.filter((o) => blank(beforeOf(o, writes, i)) && hasOtherText(o, writes, i));
    const moved = eligible.filter((o) => o.writes.length > 0 && receivesForeignText(beforeOf(o, writes, i), o.writes[i] ?? null));
    if (moved.length === 0 || (moved.length >= MOVE_MIN_ROWS && cellsOf(moved) >= MOVE_MIN_SHARE * cellsOf(eligible))) return;
    for (const o of moved) if (o.verdict === 'ok') o.verdict = 'guard:split-not-a-pattern';
  });
}

/** The texts a function's output gives the written columns, or undefined when it is not of the form the candidate declares. */
function writtenTexts(candidate: Candidate, writes: string[], output: Output | undefined): (string | null)[] | undefined {
  if (candidate.writes && (output === null || output === undefined || typeof output !== 'object')) return undefined;
  const texts = candidate.writes
    ? writes.map((name) =>
        output !== null && typeof output === 'object' && Object.hasOwn(output, name) ? asText(output[name]) : undefined,
      )
    : [asText(output ?? null)];
  return texts.some((t) => t === undefined) ? undefined : (texts as (string | null)[]);
}

/** The outcome of one input: what the function wrote and the first guard it trips (the rules come later, all at once). */
function judge(
  contract: Contract,
  columns: Map<string, Column>,
  candidate: Candidate,
  writes: string[],
  input: DistinctInput,
  output: Output | undefined,
  evidenceValues: Set<string> | undefined,
): Outcome {
  const values = writtenTexts(candidate, writes, output);
  if (!values) return { input, writes: [], verdict: 'bad-output' };
  const before = writes.map((name, i) => (i === 0 ? input.value : (input.row?.[name] ?? null)));
  if (values.every((v, i) => v === before[i])) return { input, writes: values, verdict: 'unchanged' };
  // An evidence function invents nothing: it writes only a value its evidence holds (the guards on
  // characters and digits do not apply: the value comes from the group, not from the cell).
  if (evidenceValues) {
    const ok = values.length === 1 && values[0] !== null && evidenceValues.has(values[0]!);
    return { input, writes: values, verdict: ok ? 'ok' : 'guard:not-in-evidence' };
  }
  for (const [i, name] of writes.entries()) {
    if (values[i] === before[i]) continue;
    // Another column may be written only where it was empty, or to split off what this column receives:
    // values that already passed are never otherwise touched.
    if (i > 0 && (before[i] ?? '').trim() !== '' && !splitsOff(before[i]!, values[i] ?? null, values[0] ?? null)) {
      return { input, writes: values, verdict: 'guard:overwrote-value' };
    }
    // Another column's text goes only into a column whose contract describes it.
    const moved = candidate.writes ? movedTokenGuard(columns.get(name)!, before[i] ?? null, values[i] ?? null) : undefined;
    if (moved) return { input, writes: values, verdict: `guard:${moved}` };
    // A row-level function may move text between the columns it reads: all of them are its input.
    const source = candidate.writes ? [input.value ?? '', ...Object.values(input.row ?? {}).map((v) => v ?? '')].join(' ') : input.value;
    const guard = guardFor(columns.get(name)!, contract, source, values[i]!);
    if (guard) return { input, writes: values, verdict: `guard:${guard}` };
  }
  return { input, writes: values, verdict: 'ok' };
}

/**
 * Why an evidence function is refused before it runs: its table is not the one its source names
 * (`lookup-mismatch`), or it writes other columns than its own (`lookup-writes`).
 */
function refuseLookup(candidate: Candidate, writes: string[]): { reason: string; detail: string } | undefined {
  if (namedDigest(candidate.source) !== lookupDigest(candidate.lookup!))
    return { reason: 'lookup-mismatch', detail: "the lookup table's SHA-256 is not the one the source names" };
  if (writes.length !== 1) return { reason: 'lookup-writes', detail: 'an evidence function writes its own column only' };
  return undefined;
}

/** The other columns a candidate needs from the row: those it reads, and those it writes (their old values). */
export function readColumns(candidate: Candidate): string[] {
  return [...new Set([...(candidate.reads ?? []), ...(candidate.writes ?? []).slice(1)])];
}

/**
 * Measures `candidate` on every distinct failing input of `pattern`: refused outright when it
 * writes a primary key, then gated, run in the sandbox, guarded, and checked by the rules.
 */
export async function measure(deps: MeasureDeps, pattern: PatternInputs, candidate: Candidate): Promise<Measurement> {
  const writes = candidate.writes ?? [pattern.column.name];
  const reads = readColumns(candidate);
  const inputs = await pattern.distinct(reads);
  const cells = inputs.reduce((n, i) => n + i.cells, 0);
  const base = { candidate, cells, passed: 0, pass_rate: 0, outcomes: [] as Outcome[] };
  const refused = refuseWrites(deps.contract, writes);
  if (refused) return { ...base, gate: { accepted: false, ...refused }, failures: { [`refused:${refused.reason}`]: cells } };
  const lookupRefused = candidate.lookup ? refuseLookup(candidate, writes) : undefined;
  if (lookupRefused)
    return { ...base, gate: { accepted: false, ...lookupRefused }, failures: { [`refused:${lookupRefused.reason}`]: cells } };
  const verdict = gateFunction(candidate.source);
  if (!verdict.accepted)
    return {
      ...base,
      gate: { accepted: false, reason: verdict.reason, detail: verdict.detail },
      failures: { [`gate:${verdict.reason}`]: cells },
    };

  const applied = await deps.sandbox.apply(
    verdict.source,
    inputs.map((i) => i.value),
    reads.length ? inputs.map((i) => ({ ...i.row, [pattern.column.name]: i.value })) : undefined,
    candidate.lookup,
  );
  // Load is not a property of the function: no measurement (so no decision) comes of it.
  if (applied.stopped && applied.limit === 'overloaded') throw new SandboxOverloadedError(`${candidate.name}: ${applied.message}`);
  if (applied.stopped) {
    return {
      ...base,
      gate: { accepted: true },
      stopped: { limit: applied.limit, message: applied.message },
      failures: { [`stopped:${applied.limit}`]: cells },
    };
  }
  const thrown = new Map(applied.errors);
  const evidenceValues = candidate.lookup ? new Set(Object.values(candidate.lookup)) : undefined;
  const columns = new Map(deps.contract.columns.map((c) => [c.name, c]));
  const outcomes: Outcome[] = inputs.map((input, k) => {
    const error = thrown.get(k);
    if (error !== undefined) return { input, writes: [], verdict: error === 'bad-output' ? 'bad-output' : `threw:${error}` };
    return judge(deps.contract, columns, candidate, writes, input, applied.outputs[k], evidenceValues);
  });
  if (candidate.writes) refuseInconsistentMoves(outcomes, writes);
  const checked = outcomes.filter((o) => o.verdict === 'ok');
  const broken = await failingRules(
    deps.engine,
    deps.contract,
    writes,
    checked.map((o) => o.writes),
  );
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
