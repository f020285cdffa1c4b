import { LineFile } from './bench-files.ts';

/**
 * The error patterns a flow benchmark injects into orders rows, each one cell of one column in a
 * shape a source system really sends: the first six the synthesizer repairs, the others need the
 * model tier (or review when there is none).
 */
export const FLOW_PATTERNS = [
  { name: 'amount-currency-suffix', apply: (r: OrderRow) => ({ ...r, amount: `${r.amount} USD` }) },
  { name: 'amount-dollar-prefix', apply: (r: OrderRow) => ({ ...r, amount: `$${r.amount}` }) },
  { name: 'date-slashes-ymd', apply: (r: OrderRow) => ({ ...r, ordered_at: r.ordered_at.replaceAll('-', '/') }) },
  { name: 'date-dotted-dmy', apply: (r: OrderRow) => ({ ...r, ordered_at: r.ordered_at.split('-').reverse().join('.') }) },
  { name: 'email-padded', apply: (r: OrderRow) => ({ ...r, email: `  ${r.email} ` }) },
  { name: 'amount-padded', apply: (r: OrderRow) => ({ ...r, amount: ` ${r.amount}  ` }) },
  { name: 'email-at-word', apply: (r: OrderRow) => ({ ...r, email: r.email.replace('@', ' (at) ') }) },
  { name: 'amount-comma-decimal', apply: (r: OrderRow) => ({ ...r, amount: r.amount.replace('.', ',') }) },
  { name: 'date-month-name', apply: (r: OrderRow) => ({ ...r, ordered_at: monthName(r.ordered_at) }) },
  { name: 'email-mailto', apply: (r: OrderRow) => ({ ...r, email: `mailto:${r.email}` }) },
] as const;

export interface OrderRow {
  order_id: string;
  customer: string;
  email: string;
  amount: string;
  ordered_at: string;
  note: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function monthName(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${MONTHS[Number(m) - 1]} ${Number(d)}, ${y}`;
}

/**
 * Writes `rows` orders rows (the example contract) of which `anomalyShare` carry one of the first
 * `patterns` FLOW_PATTERNS, spread evenly, deterministically. Ids start at `firstId`, so files
 * with different ids are different batches. Returns how many rows carry an anomaly.
 */
export async function writeFlowCsv(path: string, rows: number, anomalyShare: number, patterns: number, firstId = 1): Promise<number> {
  const out = new LineFile(path);
  await out.line('order_id,customer,email,amount,ordered_at,note');
  const every = anomalyShare > 0 ? Math.max(1, Math.round(1 / anomalyShare)) : 0;
  let anomalies = 0;
  for (let i = 1; i <= rows; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const month = String((i % 12) + 1).padStart(2, '0');
    let row: OrderRow = {
      order_id: String(i + firstId - 1),
      customer: `Customer ${i % 5000}`,
      email: `user${i}@example.org`,
      amount: (((i * 7919) % 100000) / 100).toFixed(2),
      ordered_at: `2026-${month}-${day}`,
      note: `note ${i % 97}`,
    };
    if (every && i % every === 0) {
      row = FLOW_PATTERNS[anomalies % patterns]!.apply(row);
      anomalies++;
    }
    const quote = (v: string) => (/[",]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    await out.line([row.order_id, row.customer, row.email, row.amount, row.ordered_at, row.note].map(quote).join(','));
  }
  await out.close();
  return anomalies;
}
