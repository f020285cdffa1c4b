import type { Out } from './io.ts';

/** A cell of a text table or a field value; null and undefined read as `-`. */
export type Cell = string | number | boolean | null | undefined;

const cellText = (cell: Cell): string => (cell === null || cell === undefined || cell === '' ? '-' : String(cell));

/** Rows of cells as aligned columns (two spaces apart; the last column is not padded), headers first when given. */
export function table(rows: Cell[][], headers?: string[]): string {
  const all = (headers ? [headers, ...rows] : rows).map((row) => row.map(cellText));
  if (all.length === 0) return '';
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  const line = (row: string[]): string =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)))
      .join('  ')
      .trimEnd();
  return `${all.map(line).join('\n')}\n`;
}

/** `label  value` lines with the labels aligned; a field whose value is undefined is left out. */
export function fields(pairs: Array<[string, Cell]>): string {
  return table(pairs.filter(([, value]) => value !== undefined).map(([label, value]) => [label, value]));
}

/** The JSON document as the CLI prints it with `--json`. */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Prints the JSON document with `--json`, otherwise the text summary (built only when needed). */
export function emit(out: Out, json: boolean | undefined, value: unknown, text: () => string): void {
  out.stdout(json ? jsonText(value) : text());
}

/** `1 cell`, `3 cells` (`plural` for words that do not take an s). */
export const count = (n: number, word: string, plural = `${word}s`): string => `${n} ${n === 1 ? word : plural}`;

/** Each line of `text` indented by `by` (the newline that ends it stays last). */
export const indent = (text: string, by = '  '): string => text.replace(/^(?=.)/gm, by);

/** A share as a percentage: 0.755 -> `75.5%`. */
export const percent = (share: number): string => `${Number((share * 100).toFixed(1))}%`;

/** Bytes in megabytes with one decimal (`12.3`). */
export const megabytes = (bytes: number): string => (bytes / 1_000_000).toFixed(1);
