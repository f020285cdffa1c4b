import { LineFile } from './bench-files.ts';

/**
 * A deterministic "payments" file in which every row is suspect: one cell of each row breaks
 * the contract in one of 12 injected error patterns across 4 columns, or (NOISE_SHARE of the
 * rows) holds free text. Returns each row's label (pattern name or "noise"), by row id - 1.
 */
export const PAYMENTS_CONTRACT = {
  stream: 'payments',
  version: 1,
  format: { type: 'csv', delimiter: ',' },
  columns: [
    { name: 'id', type: 'integer', primary_key: true, nullable: false },
    { name: 'amount', type: 'decimal', scale: 2, min: 0 },
    { name: 'paid_on', type: 'date' },
    { name: 'email', type: 'email', pii: true },
    { name: 'phone', type: 'phone', pii: true },
  ],
};

const FIRST = ['john', 'mary', 'ahmed', 'li', 'sofia', 'peter', 'amina', 'carlos', 'yuki', 'olga', 'ravi', 'emma'];
const LAST = ['smith', 'doe', 'khan', 'wang', 'garcia', 'jones', 'okafor', 'silva', 'tanaka', 'ivanova', 'patel', 'brown'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WORDS = [
  'call',
  'customer',
  'later',
  'pending',
  'see',
  'note',
  'ask',
  'billing',
  'refund',
  'wrong',
  'field',
  'check',
  'manager',
  'unknown',
  'missing',
];

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const digits = (random: Random, n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
const pad = (n: number) => String(n).padStart(2, '0');

interface Good {
  amount: string;
  paid_on: string;
  email: string;
  phone: string;
}

/** The 12 patterns: the column each breaks and how it breaks a good value. */
export const PATTERNS: ReadonlyArray<{
  name: string;
  column: keyof Good;
  make: (random: Random, d: { y: number; m: number; day: number; cents: number; first: string; last: string; phone: string }) => string;
}> = [
  { name: 'amount-currency-suffix', column: 'amount', make: (_, d) => `${(d.cents / 100).toFixed(2)} USD` },
  { name: 'amount-dollar-sign', column: 'amount', make: (_, d) => `$${(d.cents / 100).toFixed(2)}` },
  { name: 'amount-decimal-comma', column: 'amount', make: (_, d) => (d.cents / 100).toFixed(2).replace('.', ',') },
  { name: 'date-us-slashes', column: 'paid_on', make: (_, d) => `${pad(d.m)}/${pad(d.day)}/${d.y}` },
  { name: 'date-eu-dots', column: 'paid_on', make: (_, d) => `${pad(d.day)}.${pad(d.m)}.${d.y}` },
  { name: 'date-month-name', column: 'paid_on', make: (_, d) => `${MONTHS[d.m - 1]} ${d.day}, ${d.y}` },
  { name: 'email-spelled-at', column: 'email', make: (_, d) => `${d.first}.${d.last} at example.org` },
  { name: 'email-no-tld', column: 'email', make: (_, d) => `${d.first}.${d.last}@example` },
  { name: 'email-angle-brackets', column: 'email', make: (_, d) => `<${d.first}.${d.last}@example.org>` },
  { name: 'phone-us-parentheses', column: 'phone', make: (_, d) => `(${d.phone.slice(0, 3)}) ${d.phone.slice(3, 6)}-${d.phone.slice(6)}` },
  { name: 'phone-dots', column: 'phone', make: (_, d) => `${d.phone.slice(0, 3)}.${d.phone.slice(3, 6)}.${d.phone.slice(6)}` },
  {
    name: 'phone-spaced-international',
    column: 'phone',
    make: (_, d) => `+1 ${d.phone.slice(0, 3)} ${d.phone.slice(3, 6)} ${d.phone.slice(6)}`,
  },
];
const COLUMNS: ReadonlyArray<keyof Good> = ['amount', 'paid_on', 'email', 'phone'];

/** Free text: one to five words, sometimes capitalised, sometimes ending in punctuation. */
function freeText(random: Random): string {
  const words = Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(random, WORDS));
  if (random() < 0.4) words[0] = words[0]![0]!.toUpperCase() + words[0]!.slice(1);
  return words.join(' ') + (random() < 0.3 ? pick(random, ['.', '!', '?']) : '');
}

export async function writePaymentsCsv(path: string, rows: number, noiseShare: number): Promise<string[]> {
  let seed = 7;
  // A 31-bit LCG in exact integer arithmetic (Math.imul), so the file is the same on every run.
  const random: Random = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x80000000;
  const out = new LineFile(path);
  await out.line('id,amount,paid_on,email,phone');
  const labels: string[] = [];
  for (let i = 1; i <= rows; i++) {
    const d = {
      y: 2020 + Math.floor(random() * 7),
      m: 1 + Math.floor(random() * 12),
      day: 1 + Math.floor(random() * 28),
      cents: 1 + Math.floor(random() * 10_000_000),
      first: pick(random, FIRST),
      last: pick(random, LAST),
      phone: `${2 + Math.floor(random() * 8)}${digits(random, 9)}`,
    };
    const good: Good = {
      amount: (d.cents / 100).toFixed(2),
      paid_on: `${d.y}-${pad(d.m)}-${pad(d.day)}`,
      email: `${d.first}.${d.last}@example.org`,
      phone: `+1${d.phone}`,
    };
    if (random() < noiseShare) {
      good[pick(random, COLUMNS)] = freeText(random);
      labels.push('noise');
    } else {
      const pattern = pick(random, PATTERNS);
      good[pattern.column] = pattern.make(random, d);
      labels.push(pattern.name);
    }
    const csv = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    await out.line(`${i},${csv(good.amount)},${csv(good.paid_on)},${csv(good.email)},${csv(good.phone)}`);
  }
  await out.close();
  return labels;
}
