import { LineFile } from './bench-files.ts';

/**
 * A deterministic synthetic orders file: `rows` rows of the example contract's 6 columns, with
 * about `suspectShare` of them broken in one cell (bad amount, date in another format, bad
 * email, missing customer). Order ids start at `firstId` (files of different ids are different
 * batches). Returns how many rows were made suspect.
 */
export async function writeOrdersCsv(path: string, rows: number, suspectShare: number, firstId = 1): Promise<number> {
  const out = new LineFile(path);
  await out.line('order_id,customer,email,amount,ordered_at,note');
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let suspects = 0;
  for (let i = 1; i <= rows; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const month = String((i % 12) + 1).padStart(2, '0');
    let customer = `Customer ${i % 5000}`;
    let email = `user${i}@example.org`;
    let amount = (Math.floor(random() * 100000) / 100).toFixed(2);
    let date = `2026-${month}-${day}`;
    if (random() < suspectShare) {
      suspects++;
      switch (i % 4) {
        case 0:
          amount = `${amount} USD`;
          break;
        case 1:
          date = `${month}/${day}/2026`;
          break;
        case 2:
          email = `user${i}-at-example.org`;
          break;
        default:
          customer = '';
      }
    }
    await out.line(`${i + firstId - 1},${customer},${email},${amount},${date},"note, ${i % 97}"`);
  }
  await out.close();
  return suspects;
}
