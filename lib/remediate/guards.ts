import type { Column, Contract } from '../contract/contract.ts';

/**
 * Why a pass rate alone is not trusted: a function can make values pass by inventing them
 * (`x => null` passes a nullable column, `x => '12'` a numeric one). Each guard looks at one
 * input and what the function made of it; a value a guard flags counts as failed.
 */
export type GuardName = 'invented-null' | 'new-characters' | 'new-number';

/** Text that means "no value" in most sources, besides the contract's own null tokens. */
export const COMMON_NULL_TOKENS = ['', 'n/a', 'na', 'null', 'none', 'nil', '-', '--', '?', 'unknown', 'not available', '#n/a', 'nan', 'missing'];

const NUMBER = /-?\d+(?:\.\d+)?/g;

function isNullToken(value: string, contract: Contract): boolean {
  const k = value.trim().toLowerCase();
  return COMMON_NULL_TOKENS.includes(k) || contract.format.null_tokens.some((t) => t.toLowerCase() === k);
}

/** Columns whose contract documents a re-format (a date format, a list of values, a pattern): letters may change. */
function documentsFormat(column: Column): boolean {
  return column.type === 'date' || column.type === 'timestamp' || column.type === 'boolean' || column.allowed !== undefined || column.pattern !== undefined;
}

const asciiAlnum = (text: string) => new Set(text.toLowerCase().replace(/[^a-z0-9]/g, ''));

/** The guard a (input, output) pair trips in `column`, if any. Inputs that were null are left to the rules. */
export function guardFor(column: Column, contract: Contract, input: string | null, output: string | null): GuardName | undefined {
  if (input === null) return undefined;
  // The rules read an empty text or a null token as null too: turning a value into one is inventing a null.
  if (output === null || isNullToken(output, contract) && output.trim().toLowerCase() !== input.trim().toLowerCase()) {
    return isNullToken(input, contract) ? undefined : 'invented-null';
  }
  if (column.type === 'integer' || column.type === 'decimal') {
    // Numbers may lose noise digits, never gain a value: the output must be a number of the input, rounded at most to the scale.
    const scale = column.type === 'integer' ? 0 : (column.scale ?? 6);
    const tolerance = 0.5 * 10 ** -scale + 1e-12;
    const target = Number(output);
    const found = (input.replace(/(\d),(?=\d{3}(?:\D|$))/g, '$1').match(NUMBER) ?? []).some((n) => Math.abs(Number(n) - target) <= tolerance);
    return found ? undefined : 'new-number';
  }
  if (column.type === 'date' || column.type === 'timestamp' || column.type === 'enum' || column.allowed) return undefined;
  const have = asciiAlnum(input);
  for (const c of asciiAlnum(output)) {
    // Digits are data everywhere; letters may change only where the contract documents the form.
    if (!have.has(c) && (/[0-9]/.test(c) || !documentsFormat(column))) return 'new-characters';
  }
  return undefined;
}
