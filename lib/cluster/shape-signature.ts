/**
 * The shape of a value: what it looks like with its content abstracted away, so that
 * "12.0 USD" and "1299.95 USD" share the shape `9.9 A` while "03/15/2026" has `9/9/9`.
 *   decimal digits -> 9, upper-case letters -> A, other letters -> a, whitespace runs -> one
 *   space, then runs of 9, A and a collapse to one, and so do runs of words (`a a a` -> `a`:
 *   free text of any length has one shape); punctuation and symbols are kept as they are.
 * An empty or missing value has the shape EMPTY_SHAPE; long shapes are cut at MAX_SHAPE_LENGTH
 * (free text would otherwise give every row a shape of its own).
 * The same definition exists twice: in TypeScript (for single values) and as a SQL expression
 * (for every cell of a batch at once, in the engine); a property test keeps them equal. Letters
 * assigned after the engine's Unicode tables (RE2's) are letters in TypeScript only: clusters
 * are made from the engine's shapes.
 */
export const EMPTY_SHAPE = '∅';
export const MAX_SHAPE_LENGTH = 32;

export function shapeSignature(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return EMPTY_SHAPE;
  const shape = value
    .replace(/[0-9]/g, '9')
    // Non-upper-case letters first, so that the A's written next are not turned into a's.
    .replace(/[\p{Ll}\p{Lt}\p{Lm}\p{Lo}]/gu, 'a')
    .replace(/\p{Lu}/gu, 'A')
    .replace(/[\t\n\v\f\r ]+/g, ' ')
    .replace(/9+/g, '9')
    .replace(/A+/g, 'A')
    .replace(/a+/g, 'a')
    .replace(/a( a)+/g, 'a')
    .replace(/A( A)+/g, 'A');
  return [...shape].slice(0, MAX_SHAPE_LENGTH).join('');
}

/** The same shape as a DuckDB expression over a text expression (RE2 regular expressions). */
export function shapeSignatureSql(value: string): string {
  const steps: Array<[string, string]> = [
    ['[0-9]', '9'],
    ['[\\p{Ll}\\p{Lt}\\p{Lm}\\p{Lo}]', 'a'],
    ['\\p{Lu}', 'A'],
    ['[\\t\\n\\v\\f\\r ]+', ' '],
    ['9+', '9'],
    ['A+', 'A'],
    ['a+', 'a'],
    ['a( a)+', 'a'],
    ['A( A)+', 'A'],
  ];
  const shaped = steps.reduce((sql, [pattern, by]) => `regexp_replace(${sql}, '${pattern}', '${by}', 'g')`, value);
  return `CASE WHEN ${value} IS NULL OR ${value} = '' THEN '${EMPTY_SHAPE}' ELSE left(${shaped}, ${MAX_SHAPE_LENGTH}) END`;
}
