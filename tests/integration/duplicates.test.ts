import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { batchId } from '../../lib/keys.ts';
import { manifestOf, readParquet, upload } from '../support/vault.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('rows with the same primary key', () => {
  it('collapses exact duplicates (counted) and quarantines conflicting ones (with a reason)', async () => {
    const tag = randomUUID();
    const csv = [
      'order_id,customer,email,amount,ordered_at,note',
      `1,Ada,ada@example.org,1.00,2026-01-01,${tag}`,
      `2,Alan,alan@example.org,2.00,2026-01-02,${tag}`,
      `1,Ada,ada@example.org,1.00,2026-01-01,${tag}`,
      `3,Grace,grace@example.org,3.00,2026-01-03,${tag}`,
      `3,Grace,grace@example.org,30.00,2026-01-03,${tag}`,
      `4,Edsger,edsger@example.org,oops,2026-01-04,${tag}`,
    ].join('\n');
    await upload(`raw/orders/dups-${tag}.csv`, `${csv}\n`);
    const manifest = await manifestOf(batchId('orders', sha256(`${csv}\n`)));
    expect(manifest.rows).toEqual({ source: 6, clean: 2, suspect: 1, quarantined: 2, duplicates_collapsed: 1 });

    const held = await readParquet<{
      row_id: string;
      pk_hash: string;
      disposition: string;
      reasons: string[];
      duplicate_of: string | null;
      amount: string;
    }>(manifest.outputs.quarantine[0]!);
    expect(
      held.map((r) => [Number(r.row_id), r.disposition, r.reasons, r.duplicate_of === null ? null : Number(r.duplicate_of), r.amount]),
    ).toEqual([
      [3, 'collapsed', ['pk:duplicate'], 1, '1.00'],
      [4, 'quarantined', ['pk:conflict'], null, '3.00'],
      [5, 'quarantined', ['pk:conflict'], null, '30.00'],
    ]);
    // Both conflicting rows carry the same primary-key hash; every row id appears exactly once across the outputs.
    expect(held[1]!.pk_hash).toBe(held[2]!.pk_hash);
    const clean = await readParquet<{ row_id: string }>(manifest.outputs.clean[0]!, 'SELECT row_id FROM t');
    const suspect = await readParquet<{ row_id: string }>(manifest.outputs.suspect[0]!, 'SELECT row_id FROM t');
    const all = [...clean, ...suspect, ...held].map((r) => Number(r.row_id)).sort();
    expect(all).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
