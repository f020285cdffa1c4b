import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { batchId, keys } from '../../lib/keys.ts';
import { eventually, logLines, manifestOf, readParquet, readText, stack, upload } from '../support/vault.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('a file too large for one invocation fans out into parts (test stack: INGEST_PART_BYTES = 64 KiB)', () => {
  it('ingests every part, keeps row ids as file positions, settles duplicate keys across parts, and writes one manifest', async () => {
    const tag = randomUUID();
    const rows: string[] = [];
    for (let i = 1; i <= 4000; i++) {
      const amount = i % 97 === 0 ? 'N/A' : `${(i % 500) + 0.25}`;
      rows.push(`${i},Customer ${i},c${i}@example.org,${amount},2026-01-${String((i % 28) + 1).padStart(2, '0')},"${tag}, line ${i}"`);
    }
    rows.push(rows[0]!); // row 4001: an exact copy of row 1, in the last part
    rows.push(rows[4]!.replace(',5.25,', ',55.25,')); // row 4002: key 5 again, other content
    const csv = `order_id,customer,email,amount,ordered_at,note\n${rows.join('\n')}\n`;
    expect(Buffer.byteLength(csv)).toBeGreaterThan(4 * 65536);
    await upload('raw/orders/large.csv', csv);

    const batch = batchId('orders', sha256(csv));
    const manifest = await manifestOf(batch);
    const plan = JSON.parse((await readText(keys.fanOutPlan(batch)))!) as { parts: Array<{ first_row: number; rows: number }> };
    expect(plan.parts.length).toBeGreaterThanOrEqual(4);
    const suspects = rows.filter((r) => r.includes(',N/A,')).length;
    expect(manifest.rows).toEqual({ source: 4002, clean: 4002 - suspects - 3, suspect: suspects, quarantined: 2, duplicates_collapsed: 1 });
    expect(manifest.outputs.clean).toHaveLength(plan.parts.length);

    // Every row id of the file appears exactly once across all the parts' outputs.
    const ids: number[] = [];
    for (const key of [...manifest.outputs.clean, ...manifest.outputs.suspect, ...manifest.outputs.quarantine]) {
      ids.push(...(await readParquet<{ row_id: string }>(key, 'SELECT row_id FROM t')).map((r) => Number(r.row_id)));
    }
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 4002 }, (_, i) => i + 1));

    const held = [];
    for (const key of manifest.outputs.quarantine)
      held.push(...(await readParquet<{ row_id: string; disposition: string; duplicate_of: string | null }>(key)));
    expect(
      held
        .map((r) => [Number(r.row_id), r.disposition, r.duplicate_of === null ? null : Number(r.duplicate_of)])
        .sort((a, b) => (a[0] as number) - (b[0] as number)),
    ).toEqual([
      [5, 'quarantined', null],
      [4001, 'collapsed', 1],
      [4002, 'quarantined', null],
    ]);
    // The batch manifest, written once by the last part, hands the batch on.
    await eventually(
      'the cluster invocation',
      async () =>
        logLines('event-bridge').some(
          (l) => l['function'] === `vaultmend-${stack().stage}-cluster` && (l['keys'] as string[]).includes(keys.ingestManifest(batch)),
        ) || undefined,
    );
  });
});
