import type { Column } from '../contract/contract.ts';
import type { Candidate } from './candidate.ts';

/**
 * Date and time re-formatting: candidate functions that read a date (or time) in one of the
 * common layouts and write it in the form the contract documents — a strptime format for
 * date and timestamp columns, or, for text columns with a pattern, each common clock style
 * (the pattern then picks the one that passes). Ambiguous inputs (day/month order both
 * possible, a 12-hour time without a.m./p.m.) are returned unchanged, so they stay failed.
 */
interface DateLayout {
  name: string;
  /** Regular-expression source; groups named by the fields below (1-based). */
  regex: string;
  year: number;
  month: number;
  day: number;
  /** The month group holds a name ("Mar", "march"), not a number. */
  monthName?: boolean;
}

const SEP = '[-/.]';
const MONTH_NAME = '([A-Za-z]{3,9})\\.?';
const DATE_LAYOUTS: DateLayout[] = [
  { name: 'y-m-d', regex: `(\\d{4})${SEP}(\\d{1,2})${SEP}(\\d{1,2})`, year: 1, month: 2, day: 3 },
  { name: 'm-d-y', regex: `(\\d{1,2})${SEP}(\\d{1,2})${SEP}(\\d{4})`, year: 3, month: 1, day: 2 },
  { name: 'd-m-y', regex: `(\\d{1,2})${SEP}(\\d{1,2})${SEP}(\\d{4})`, year: 3, month: 2, day: 1 },
  { name: 'd-mon-y', regex: `(\\d{1,2})[ -]${MONTH_NAME}[ ,-]+(\\d{4})`, year: 3, month: 2, day: 1, monthName: true },
  { name: 'mon-d-y', regex: `${MONTH_NAME}\\s+(\\d{1,2}),?\\s+(\\d{4})`, year: 3, month: 1, day: 2, monthName: true },
  { name: 'ymd-compact', regex: '(\\d{4})(\\d{2})(\\d{2})', year: 1, month: 2, day: 3 },
];

/** hh:mm[:ss] with an optional a.m./p.m. marker in any common spelling. */
const TIME = '(\\d{1,2}):(\\d{2})(?::(\\d{2}))?\\s*(?:([AaPp])\\.?\\s*[Mm]?\\.?)?';
const MONTHS = '["jan","feb","mar","apr","may","jun","jul","aug","sep","oct","nov","dec"]';
const MONTHS_SHORT = '["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"]';
const MONTHS_LONG = '["January","February","March","April","May","June","July","August","September","October","November","December"]';

/** strptime directives -> expressions over Y, mo, d, H, Mi, S (p2 pads to two digits). */
const DIRECTIVES: Record<string, string> = {
  Y: 'String(Y)',
  y: 'p2(Y % 100)',
  m: 'p2(mo)',
  '-m': 'String(mo)',
  d: 'p2(d)',
  '-d': 'String(d)',
  e: 'String(d).padStart(2, " ")',
  b: `${MONTHS_SHORT}.at(mo - 1)`,
  B: `${MONTHS_LONG}.at(mo - 1)`,
  H: 'p2(H)',
  '-H': 'String(H)',
  I: 'p2((H + 11) % 12 + 1)',
  '-I': 'String((H + 11) % 12 + 1)',
  M: 'p2(Mi)',
  S: 'p2(S)',
  p: '(H < 12 ? "AM" : "PM")',
  '%': '"%"',
};

/** The output expression for a strptime format, or undefined when it uses a directive we do not write. */
export function formatExpression(format: string): { expression: string; usesTime: boolean } | undefined {
  const parts: string[] = [];
  let usesTime = false;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      parts.push(JSON.stringify(c));
      continue;
    }
    const directive = format[i + 1] === '-' ? `-${format[i + 2] ?? ''}` : (format[i + 1] ?? '');
    const expression = DIRECTIVES[directive];
    if (!expression) return undefined;
    if (/[HIMSp]/.test(directive)) usesTime = true;
    parts.push(expression);
    i += directive.length;
  }
  return { expression: parts.join(' + '), usesTime };
}

function defaultFormat(column: Column): string {
  return column.type === 'timestamp' ? '%Y-%m-%d %H:%M:%S' : '%Y-%m-%d';
}

const P2 = 'const p2 = n => String(n).padStart(2, "0");';
/** Hour from a 12- or 24-hour clock: returns -1 when a 12-hour time has no a.m./p.m. marker. */
const HOUR = (h: string, marker: string) =>
  `const ap = (${marker} ?? "").toLowerCase(); let H = Number(${h}); if (ap === "p" && H < 12) H = H + 12; if (ap === "a" && H === 12) H = 0;`;

/** Candidates for date and timestamp columns: every layout x (date, or date and time) -> the contract's format. */
export function dateCandidates(column: Column): Candidate[] {
  const format = column.format ?? defaultFormat(column);
  const output = formatExpression(format);
  if (!output) return [];
  const candidates: Candidate[] = [];
  for (const layout of DATE_LAYOUTS) {
    const month = layout.monthName ? `${MONTHS}.indexOf(m[${layout.month}].slice(0, 3).toLowerCase()) + 1` : `Number(m[${layout.month}])`;
    const fields = `const Y = Number(m[${layout.year}]); const mo = ${month}; const d = Number(m[${layout.day}]);`;
    const checks = 'if (mo < 1 || mo > 12 || d < 1 || d > 31) return x;';
    if (!output.usesTime) {
      candidates.push({
        name: `date:${layout.name}`,
        source: `x => { const m = /^\\s*${layout.regex}\\s*$/.exec(x); if (m === null) return x; ${fields} ${checks} ${P2} return ${output.expression}; }`,
      });
      continue;
    }
    // With a time: the input must carry one; seconds default to 0; a 12-hour time needs its marker.
    candidates.push({
      name: `timestamp:${layout.name}`,
      source:
        `x => { const m = /^\\s*${layout.regex}(?:[T ]+|\\s*,\\s*)${TIME}\\s*(?:Z|UTC)?\\s*$/.exec(x); if (m === null) return x; ${fields} ` +
        `${HOUR('m[4]', 'm[7]')} const Mi = Number(m[5]); const S = Number(m[6] ?? 0); ` +
        `if (m[7] === undefined && Number(m[4]) <= 12 && ${JSON.stringify(format.includes('%p'))}) return x; ` +
        `if (H > 23 || Mi > 59 || S > 59) return x; ${checks} ${P2} return ${output.expression}; }`,
    });
  }
  return candidates;
}

/** Clock styles a text column's pattern may ask for. */
const CLOCK_STYLES: [string, string][] = [
  ['h:mm a.m.', 'String((H + 11) % 12 + 1) + ":" + p2(Mi) + (H < 12 ? " a.m." : " p.m.")'],
  ['h:mm AM', 'String((H + 11) % 12 + 1) + ":" + p2(Mi) + (H < 12 ? " AM" : " PM")'],
  ['hh:mm AM', 'p2((H + 11) % 12 + 1) + ":" + p2(Mi) + (H < 12 ? " AM" : " PM")'],
  ['h:mm am', 'String((H + 11) % 12 + 1) + ":" + p2(Mi) + (H < 12 ? " am" : " pm")'],
  ['HH:mm', 'p2(H) + ":" + p2(Mi)'],
  ['HH:mm:ss', 'p2(H) + ":" + p2(Mi) + ":" + p2(S)'],
];

/**
 * Candidates for text columns with a pattern: find the one clock time in the value (junk
 * around it is dropped) and write it in each style. A value with two times is left alone.
 */
export function clockTimeCandidates(column: Column): Candidate[] {
  if (!column.pattern?.includes(':')) return [];
  return CLOCK_STYLES.map(([style, expression]) => {
    const twelveHour = / [ap]|AM|am/.test(style);
    return {
      name: `clock-time:${style}`,
      source:
        `x => { const all = x.match(/${TIME}/g); if (all === null || all.length !== 1) return x; const m = /^${TIME}$/.exec(all[0]); if (m === null) return x; ` +
        `${HOUR('m[1]', 'm[4]')} const Mi = Number(m[2]); const S = Number(m[3] ?? 0); ` +
        `${twelveHour ? 'if (m[4] === undefined && H <= 12) return x; ' : ''}if (H > 23 || Mi > 59 || S > 59) return x; ${P2} return ${expression}; }`,
    };
  });
}
