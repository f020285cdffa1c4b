import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { RULE_ROWS, RULES_CONTRACT, rulesCsv } from '../support/rules-contract.ts';
import { manifestOf, readParquet, upload, vaultStore } from '../support/vault.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the bouncer on the real stack', () => {
  beforeAll(async () => {
    await registerContract(vaultStore(), RULES_CONTRACT);
  });

  it('routes every rule type to suspect with its reason codes, and the rest to clean Parquet', async () => {
    const csv = rulesCsv();
    await upload('raw/rules/all-rules.csv', csv);
    const batch = batchId('rules', sha256(csv));
    const manifest = await manifestOf(batch);
    const suspects = RULE_ROWS.filter(([, r]) => r.length > 0);
    expect(manifest.rows).toEqual({
      source: RULE_ROWS.length,
      clean: RULE_ROWS.length - suspects.length,
      suspect: suspects.length,
      quarantined: 0,
      duplicates_collapsed: 0,
    });

    const suspect = await readParquet<{ row_id: string; reasons: string[]; pk_hash: string; price: string | null }>(
      manifest.outputs.suspect[0]!,
    );
    const expected = RULE_ROWS.map(([, reasons], i) => ({ row_id: i + 1, reasons: [...reasons].sort() })).filter(
      (r) => r.reasons.length > 0,
    );
    expect(suspect.map((r) => ({ row_id: Number(r.row_id), reasons: [...r.reasons].sort() }))).toEqual(expected);
    // The original text is kept exactly, rounding noise included.
    expect(suspect.find((r) => Number(r.row_id) === 7)!.price).toBe('0.052000000000000005');

    const clean = await readParquet<{ row_id: string }>(manifest.outputs.clean[0]!, 'SELECT row_id FROM t ORDER BY row_id');
    expect(clean.map((r) => Number(r.row_id))).toEqual(RULE_ROWS.flatMap(([, r], i) => (r.length ? [] : [i + 1])));
  });

  it('writes identical objects when the same file is processed again', async () => {
    const csv = rulesCsv().replace('Ann', 'Bea');
    await upload('raw/rules/again-1.csv', csv);
    const batch = batchId('rules', sha256(csv));
    const first = await manifestOf(batch);
    const before = await readParquet(first.outputs.suspect[0]!);
    // Deleting the manifest makes the next delivery do the whole work again.
    await vaultStore().remove(`manifests/${batch}/ingest.json`);
    // ...once its claim is gone too (every version: a claim stands by its first).
    await vaultStore().removeAllVersions(keys.claim(`${batch}/ingest`, 0));
    await upload('raw/rules/again-2.csv', csv);
    const second = await manifestOf(batch);
    expect(second.outputs).toEqual(first.outputs);
    expect(second.rows).toEqual(first.rows);
    expect(await readParquet(second.outputs.suspect[0]!)).toEqual(before);
  });
});
