import type { Message } from 'ollama';
import type { Column } from '../../contract/contract.ts';

/**
 * The prompt: the column's contract, the rule its values break, masked samples, and — in a
 * repair round — the previous function, why it was refused, and what it made of the failing
 * samples. The model is asked for a function, never for data.
 */
export interface PromptSample {
  value: string | null;
  shape: string;
}

/** A repair round: the refused function, why, and what it made of failing samples. */
export interface RepairContext {
  transformation: string;
  problem: string;
  failing: { input: string | null; output: string; verdict: string }[];
}

/** Everything one prompt is built from. */
export interface PromptContext {
  column: Column;
  rule: string;
  samples: PromptSample[];
  repair?: RepairContext;
}

const SYSTEM = `You repair data by writing ONE JavaScript arrow function, never by writing data.
The function receives a failing cell's text as \`value\` (and the row's text values as \`row\` if it declares a second parameter) and returns the repaired text, a number, or null where the value means "no value". A function that splits a combined field may return an object {column: value} for the columns it writes.
Allowed: const/let, if, return, ternaries, template literals without tags, string/array/number/Math methods, regular-expression literals, new Date(...) with arguments and UTC methods.
Not allowed (the function is refused): loops, function/class/async/generator, this, globals other than Math Number String Boolean parseInt parseFloat isNaN isFinite Date Array, property assignment, constructor/prototype/__proto__, eval, require, process, Date.now, Math.random, Python.
Answer with JSON only: {"transformation": "<the arrow function>", "confidence_score": <0..1>, "reasoning": "<one sentence>", "pattern_type": "<short name of the error pattern>"}.`;

/** What the contract says about a decimal's fraction digits: numbers keep every digit unless the contract names a rounding. */
function decimalFact(column: Column): string {
  if (column.scale === undefined) return 'any number of digits after the point (up to 18): keep every digit, never round';
  if (column.rounding)
    return `at most ${column.scale} digits after the point; round longer values ${column.rounding === 'half-even' ? 'half to even' : 'half away from zero'}`;
  return `at most ${column.scale} digits after the point; never round genuine extra digits (return such a value unchanged), only float noise such as 0.30000000000000004 may be cut`;
}

function describeColumn(column: Column): string {
  const facts: string[] = [`name: ${column.name}`, `type: ${column.type}`, `nullable: ${column.nullable}`];
  if (column.pattern) facts.push(`must fully match the regular expression: ${column.pattern}`);
  if (column.format) facts.push(`date/time format (strptime): ${column.format}`);
  if (column.allowed)
    facts.push(`allowed values: ${JSON.stringify(column.allowed.slice(0, 50))}${column.allowed.length > 50 ? ' ...' : ''}`);
  if (column.min !== undefined) facts.push(`min: ${column.min}`);
  if (column.max !== undefined) facts.push(`max: ${column.max}`);
  if (column.max_length) facts.push(`max length: ${column.max_length}`);
  if (column.type === 'decimal') facts.push(decimalFact(column));
  if (column.description) facts.push(`meaning: ${column.description}`);
  return facts.map((f) => `- ${f}`).join('\n');
}

/** The system and user messages for one ask (or repair round) of the model. */
export function buildMessages(context: PromptContext): Message[] {
  const samples = context.samples.map((s) => `- ${JSON.stringify(s.value)} (shape ${JSON.stringify(s.shape)})`).join('\n');
  let user = `Column contract:\n${describeColumn(context.column)}\n\nFailing rule: ${context.rule}\n\nSample failing values (personal data is masked: digits and letters replaced, shape kept):\n${samples}\n\nWrite the function that turns these values into values that pass the contract.`;
  if (context.repair) {
    const failing = context.repair.failing.map((f) => `- ${JSON.stringify(f.input)} -> ${f.output} (${f.verdict})`).join('\n');
    user += `\n\nYour previous function was:\n${context.repair.transformation}\nIt was not accepted: ${context.repair.problem}\n${failing ? `What it produced on failing values:\n${failing}\n` : ''}Write a corrected function.`;
  }
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: user },
  ];
}
