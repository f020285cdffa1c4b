import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../lib/engine/duckdb.ts';
import { keys } from '../../lib/keys.ts';
import { ClusterResultSchema, type ClusterResult } from '../../lib/vault/cluster-result.ts';
import { remediateCluster, settledResult, type RemediateDeps } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { ClaimSchema, releaseClaim } from '../../lib/vault/claims.ts';
import { ENGINE, ingestAndCluster, type LocalBatch } from '../support/local-batch.ts';

/** The synthesizer and registry tiers on batches taken through the real ingest and cluster steps. */
const CONTRACT = {
  stream: 'shop',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
    { name: 'ordered_on', type: 'date' },
    { name: 'status', type: 'enum', allowed: ['paid', 'refunded'] },
    { name: 'city', type: 'string' },
    { name: 'state', type: 'string', nullable: false, pattern: '[A-Z]{2}' },
    { name: 'email', type: 'email', pii: true },
    { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{4}' },
  ],
};
const HEADER = 'id,amount,ordered_on,status,city,state,email,code';

function csv(rows: Partial<Record<string, string>>[]): string {
  const lines = rows.map((r, i) =>
    [
      String(i + 1),
      r.amount ?? '1.00',
      r.ordered_on ?? '2026-01-01',
      r.status ?? 'paid',
      r.city ?? 'Austin',
      r.state ?? 'TX',
      r.email ?? `u${i}@example.org`,
      r.code ?? 'ABC-0001',
    ]
      .map((v) => (/[,"]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
      .join(','),
  );
  return `${[HEADER, ...lines].join('\n')}\n`;
}

const dirty = [
  ...['12.50 USD', '7.25 USD', '1,200.00 USD', '3.10 USD'].map((amount) => ({ amount })),
  // Float noise past the scale (0.05 written by a double) may be cut; real digits never are (see numbers-keep-every-digit).
  { amount: '0.05000000000000001' },
  ...['03/15/2026', '11/30/2025', '01/13/2026'].map((ordered_on) => ({ ordered_on })),
  ...['PAID', ' Refunded '].map((status) => ({ status })),
  ...['San Francisco CA', 'Los Angeles CA', 'Portland OR'].map((city) => ({ city, state: '' })),
  ...['<ada@example.org>', '<bob@example.com>'].map((email) => ({ email })),
  ...['abc 1234', 'xyz 0042'].map((code) => ({ code })),
  {},
  {},
];

let batch: LocalBatch;
let sandbox: Sandbox;
let engine: Engine;
const results = new Map<string, ClusterResult>();
const deps = (): RemediateDeps => ({
  store: batch.store,
  workDir: batch.workDir,
  engine: ENGINE,
  sandbox,
  threshold: 0.75,
  model: undefined,
  now: () => new Date('2026-11-23T12:00:00Z'),
});
const byColumn = (column: string) => [...results.values()].find((r) => r.column === column)!;
const allOf = (column: string) => [...results.values()].filter((r) => r.column === column);
const parquet = async <T>(key: string) => engine.rows<T>(`SELECT * FROM read_parquet('${join(batch.root, key)}')`);

beforeAll(async () => {
  sandbox = new Sandbox();
  engine = await Engine.open({ ...ENGINE, spillDir: '/tmp/vaultmend-test-spill' });
  batch = await ingestAndCluster(CONTRACT, 'shop', csv(dirty));
  for (const spec of batch.clusters) {
    const outcome = await remediateCluster(deps(), keys.cluster(batch.batch, spec.cluster));
    results.set(spec.cluster, settledResult(outcome));
  }
}, 120_000);
afterAll(() => {
  sandbox.dispose();
  engine.close();
  batch.cleanup();
});

describe('remediate: synthesizer tier', () => {
  it('fixes each pattern with a typed transformation chosen by the contract alone', () => {
    const summary = Object.fromEntries(
      [...results.values()].map((r) => [`${r.column}:${r.rule}`, `${r.disposition}/${r.tier}/${r.function?.name ?? '-'}`]),
    );
    expect(summary).toMatchObject({
      'amount:type': 'fixed/synthesizer/extract-number',
      'ordered_on:type': 'fixed/synthesizer/date:m-d-y',
      'status:allowed': 'fixed/synthesizer/lower-case',
      'state:not_null': 'fixed/synthesizer/split-last-word-from:city',
      'email:type': 'fixed/synthesizer/email-unwrap',
      'code:pattern': 'needs-review/review/-',
    });
  });

  it('stages one row per changed cell with old and new value', async () => {
    expect(allOf('amount').length).toBeGreaterThan(1);
    const staged = (
      await Promise.all(allOf('amount').map((r) => parquet<{ old_value: string; new_value: string }>(r.outputs.staged!)))
    ).flat();
    expect(staged).toHaveLength(5);
    expect(staged.map((s) => [s.old_value, s.new_value])).toEqual(
      expect.arrayContaining([
        ['12.50 USD', '12.5'],
        ['1,200.00 USD', '1200'],
        ['0.05000000000000001', '0.05'],
      ]),
    );
    const dates = await parquet<{ new_value: string }>(byColumn('ordered_on').outputs.staged!);
    expect(dates.map((d) => d.new_value).sort()).toEqual(['2025-11-30', '2026-01-13', '2026-03-15']);
  });

  it('splits a combined field across two columns of the row', async () => {
    const staged = await parquet<{ row_id: string; column_name: string; old_value: string | null; new_value: string }>(
      byColumn('state').outputs.staged!,
    );
    const byRow = (column: string) =>
      staged
        .filter((s) => s.column_name === column)
        .map((s) => [s.old_value ?? '', s.new_value])
        .sort();
    expect(byRow('state')).toEqual([
      ['', 'CA'],
      ['', 'CA'],
      ['', 'OR'],
    ]);
    expect(byRow('city')).toEqual([
      ['Los Angeles CA', 'Los Angeles'],
      ['Portland OR', 'Portland'],
      ['San Francisco CA', 'San Francisco'],
    ]);
  });

  it('puts every cell in exactly one place: staged or quarantined', async () => {
    for (const result of results.values()) {
      const cells = await parquet<{ row_id: string }>(keys.clusterCells(batch.batch, result.cluster));
      const staged = result.outputs.staged ? await parquet<{ row_id: string; column_name: string }>(result.outputs.staged) : [];
      const quarantined = result.outputs.quarantine ? await parquet<{ row_id: string; reason: string }>(result.outputs.quarantine) : [];
      const fixedRows = new Set(staged.filter((s) => s.column_name === result.column).map((s) => s.row_id));
      const quarantinedRows = new Set(quarantined.map((q) => q.row_id));
      expect([...fixedRows].filter((r) => quarantinedRows.has(r))).toEqual([]);
      expect([...fixedRows, ...quarantinedRows].sort()).toEqual(cells.map((c) => c.row_id).sort());
      expect(result.counts.cells).toBe(cells.length);
    }
    const review = await parquet<{ reason: string; value: string }>(byColumn('code').outputs.quarantine!);
    expect(review.map((r) => r.reason)).toEqual(['needs-review', 'needs-review']);
  });

  it('writes an audit row for every changed cell, naming the function, tier and confidence', async () => {
    const audit = (await Promise.all(allOf('amount').map((r) => parquet<Record<string, unknown>>(r.outputs.audit!)))).flat();
    expect(audit).toHaveLength(5);
    expect(audit[0]).toMatchObject({
      column: 'amount',
      tier: 'synthesizer',
      function_name: 'extract-number',
      confidence: 1,
      model: null,
      model_version: null,
    });
    expect(String(audit[0]!['function'])).toContain('=>');
  });

  it('never shows a pii value in the result, only its masked shape', () => {
    const text = JSON.stringify(byColumn('email'));
    expect(text).not.toContain('ada@example.org');
    expect(byColumn('email').evidence.examples[0]!.before).toMatch(/^<x{3}@x{7}\.x{3}>$/);
  });

  it('writes identical objects when an invocation is retried, and does nothing when the result exists', async () => {
    const amount = byColumn('amount');
    const paths = [amount.outputs.staged!, amount.outputs.audit!, keys.clusterResult(batch.batch, amount.cluster)];
    const before = paths.map((p) => readFileSync(join(batch.root, p)));
    expect((await remediateCluster(deps(), keys.cluster(batch.batch, amount.cluster))).status).toBe('already-remediated');
    await batch.store.remove(keys.clusterResult(batch.batch, amount.cluster));
    // As if the first holder died before its result: a delivery within its lease leaves the work to it...
    expect((await remediateCluster(deps(), keys.cluster(batch.batch, amount.cluster))).status).toBe('claimed-elsewhere');
    // ...and once its claim is given up (a failed invocation releases it), the retry takes it over.
    const scope = `${batch.batch}/remediate/${amount.cluster}`;
    await releaseClaim(batch.store, ClaimSchema.parse(JSON.parse(readFileSync(join(batch.root, keys.claim(scope, 0)), 'utf8'))));
    const again = await remediateCluster(deps(), keys.cluster(batch.batch, amount.cluster));
    expect(again.status).toBe('remediated');
    expect(paths.map((p) => readFileSync(join(batch.root, p)))).toEqual(before);
  });

  it('registers measured functions, and the next batch with the same pattern takes them from the registry', async () => {
    const next = await ingestAndCluster(CONTRACT, 'shop', csv([{ amount: '99.90 USD' }, { amount: '5.00 USD' }, {}]), 'next.csv');
    try {
      // The same vault: the registry written by the first batch is there.
      const store = batch.store;
      const { readdirSync, cpSync } = await import('node:fs');
      cpSync(join(batch.root, 'registry'), join(next.root, 'registry'), { recursive: true });
      expect(readdirSync(join(batch.root, 'registry', 'shop')).length).toBeGreaterThanOrEqual(5);
      const outcome = await remediateCluster(
        { ...deps(), store: next.store, workDir: next.workDir },
        keys.cluster(next.batch, next.clusters[0]!.cluster),
      );
      expect(settledResult(outcome)).toMatchObject({ tier: 'registry', disposition: 'fixed', model_calls: 0 });
      expect(store).toBeDefined();
    } finally {
      next.cleanup();
    }
  });

  it('sends to review what the data cannot decide: day/month order', async () => {
    const ambiguous = await ingestAndCluster(
      CONTRACT,
      'shop',
      csv(['03/04/2026', '05/06/2026', '01/02/2026'].map((ordered_on) => ({ ordered_on }))),
      'ambiguous.csv',
    );
    try {
      const outcome = await remediateCluster(
        { ...deps(), store: ambiguous.store, workDir: ambiguous.workDir },
        keys.cluster(ambiguous.batch, ambiguous.clusters[0]!.cluster),
      );
      expect(settledResult(outcome)).toMatchObject({ disposition: 'needs-review', tier: 'review' });
      expect(settledResult(outcome).measured.ambiguous_with).toBe('date:m-d-y / date:d-m-y');
      expect(settledResult(outcome).counts.quarantined_cells).toBe(3);
    } finally {
      ambiguous.cleanup();
    }
  });

  it('parses every result with its schema', () => {
    for (const result of results.values()) expect(() => ClusterResultSchema.parse(result)).not.toThrow();
  });
});
