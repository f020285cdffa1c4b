import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column, Contract } from '../../lib/contract/contract.ts';
import { parseContract } from '../../lib/contract/registry.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { keys } from '../../lib/keys.ts';
import type { Candidate } from '../../lib/remediate/candidate.ts';
import { checkFunction } from '../../lib/remediate/check-function.ts';
import { measure, readColumns, type DistinctInput, type PatternInputs } from '../../lib/remediate/measure.ts';
import { remediateCluster, settledResult } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { synthesize } from '../../lib/remediate/synthesizer.ts';
import { synthesizerCandidates } from '../../lib/remediate/synthesizer-catalog.ts';
import { ENGINE, ingestAndCluster } from '../support/local-batch.ts';

/**
 * Row-level functions move text between columns only where the receiving column's contract
 * describes it and the cluster shows it as a pattern; a primary key is never written.
 */
const CONTRACT = parseContract({
  stream: 'orders',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'customer', type: 'string', nullable: false },
    { name: 'note', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'state', type: 'string', nullable: false, pattern: '[A-Z]{2}' },
    { name: 'colour', type: 'enum', allowed: ['red', 'green', 'blue'] },
    { name: 'contact', type: 'email' },
  ],
});
const column = (name: string) => CONTRACT.columns.find((c) => c.name === name)!;
type Row = Record<string, string | null>;

/** A cluster of `column` over whole rows: each distinct input carries the columns a candidate reads. */
function pattern(of: Column, rows: Row[]): PatternInputs {
  return {
    column: of,
    distinct: async (reads: string[]): Promise<DistinctInput[]> =>
      rows.map((r) => ({
        value: r[of.name] ?? null,
        cells: 1,
        ...(reads.length ? { row: Object.fromEntries(reads.map((n) => [n, r[n] ?? null])) } : {}),
      })),
  };
}

let engine: Engine;
let sandbox: Sandbox;
const deps = () => ({ engine, sandbox, contract: CONTRACT });
beforeAll(async () => {
  engine = await Engine.open({ ...ENGINE, spillDir: '/tmp/vaultmend-test-spill' });
  sandbox = new Sandbox();
});
afterAll(() => {
  sandbox.dispose();
  engine.close();
});

const synthesizeFor = (name: string, rows: Row[]) =>
  synthesize(deps(), pattern(column(name), rows), synthesizerCandidates(column(name), CONTRACT));

describe('splits', () => {
  it('never fill an empty required free-text field from another column: the empty-customer row goes to review', async () => {
    const synthesis = await synthesizeFor('customer', [{ customer: '', note: 'empty customer', city: 'Austin', state: 'TX' }]);
    expect(synthesis.best).toBeUndefined();
    expect(
      synthesizerCandidates(column('customer'), CONTRACT).filter(
        (c) => c.writes?.[0] === 'customer' && c.name.startsWith('split-last-word-from'),
      ),
    ).toEqual([]);
  });

  it('refuse a row-level function that moves a word into a column whose contract does not describe it', async () => {
    const candidate: Candidate = {
      name: 'model:split-note',
      reads: ['note'],
      writes: ['customer', 'note'],
      source:
        '(v, row) => { const s = row["note"].trim(); const i = s.lastIndexOf(" "); return { "customer": s.slice(i + 1), "note": s.slice(0, i) }; }',
    };
    const m = await measure(
      deps(),
      pattern(column('customer'), [
        { customer: '', note: 'empty customer' },
        { customer: '', note: 'call Bob' },
      ]),
      candidate,
    );
    expect(m.passed).toBe(0);
    expect(m.failures).toEqual({ 'guard:moved-into-undescribed': 2 });
  });

  it('move a token its receiver describes when the donor values show it as the pattern of the cluster', async () => {
    const rows = ['San Francisco CA', 'Los Angeles CA', 'Portland OR'].map((city) => ({ state: '', city, note: 'thanks' }));
    const synthesis = await synthesizeFor('state', rows);
    expect(synthesis.best?.candidate.name).toBe('split-last-word-from:city');
    expect(synthesis.best?.outcomes.map((o) => o.writes)).toEqual([
      ['CA', 'San Francisco'],
      ['CA', 'Los Angeles'],
      ['OR', 'Portland'],
    ]);
  });

  it('refuse a move one row happens to allow: a note ending in "OK" is no state', async () => {
    const synthesis = await synthesizeFor('state', [{ state: '', city: 'Austin', note: 'call me OK' }]);
    expect(synthesis.best).toBeUndefined();
    expect(synthesis.tried.find((t) => t.name === 'split-last-word-from:note')?.pass_rate).toBe(0);
  });

  it('refuse a move the cluster does not show consistently (2 of 5 donor values end in a state)', async () => {
    const rows = ['Austin TX', 'Dallas TX', 'Houston', 'El Paso', 'Waco'].map((city) => ({ state: '', city }));
    const m = await measure(
      deps(),
      pattern(column('state'), rows),
      synthesizerCandidates(column('state'), CONTRACT).find((c) => c.name === 'split-last-word-from:city')!,
    );
    expect(m.passed).toBe(0);
    expect(m.failures['guard:split-not-a-pattern']).toBe(2);
  });

  it('move an allowed value or an e-mail address out of free text, and nothing that is not one', async () => {
    const split = (into: string) => synthesizerCandidates(column('note'), CONTRACT).find((c) => c.name === `split-last-word-into:${into}`)!;
    const moved = async (into: string, notes: string[]) => {
      const m = await measure(
        deps(),
        pattern(
          column('note'),
          notes.map((note) => ({ note, [into]: '' })),
        ),
        split(into),
      );
      return m.outcomes.map((o) => (o.verdict === 'ok' ? o.writes : o.verdict));
    };
    expect(await moved('colour', ['wrapped red', 'boxed blue'])).toEqual([
      ['wrapped', 'red'],
      ['boxed', 'blue'],
    ]);
    expect(await moved('contact', ['ask ada@example.org', 'ask bob@example.com'])).toEqual([
      ['ask', 'ada@example.org'],
      ['ask', 'bob@example.com'],
    ]);
    expect(await moved('colour', ['wrapped purple', 'boxed teal'])).toEqual(['unchanged', 'unchanged']);
    expect(
      synthesizerCandidates(column('note'), CONTRACT)
        .map((c) => c.name)
        .filter((n) => n.startsWith('split')),
    ).toEqual(['split-last-word-into:state', 'split-last-word-into:colour', 'split-last-word-into:contact']);
  });

  it('property: a row-level function never moves a token into a column whose contract does not describe it', async () => {
    const receivers = ['customer', 'note', 'city', 'state', 'colour', 'contact'];
    const words = fc.constantFrom('empty', 'customer', 'CA', 'OR', 'red', 'blue', 'ada@example.org', 'San', 'Jose', '12', 'x');
    const text = fc.oneof(
      fc.constant(''),
      fc.array(words, { minLength: 1, maxLength: 3 }).map((w) => w.join(' ')),
    );
    const row = fc.record(Object.fromEntries(receivers.map((n) => [n, text])) as Record<string, fc.Arbitrary<string>>);
    const move = fc.record({
      donor: fc.constantFrom(...receivers),
      receiver: fc.constantFrom(...receivers),
      clusterIsReceiver: fc.boolean(),
      last: fc.boolean(),
    });
    const describes = (c: Column) => c.type !== 'string' || c.pattern !== undefined || c.allowed !== undefined;
    const received = (before: string | null, after: string | null) =>
      (after ?? '').trim() !== '' && !(before ?? '').toLowerCase().includes((after ?? '').trim().toLowerCase());
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 5 }), move, async (rows, { donor, receiver, clusterIsReceiver, last }) => {
        fc.pre(donor !== receiver);
        const own = clusterIsReceiver ? receiver : donor;
        const other = clusterIsReceiver ? donor : receiver;
        const candidates = [
          moverCandidate(own, other, donor, receiver, last),
          ...synthesizerCandidates(column(own), CONTRACT).filter((c) => c.writes),
        ];
        for (const candidate of candidates) {
          const m = await measure(deps(), pattern(column(own), rows), candidate);
          for (const o of m.outcomes.filter((x) => x.verdict === 'ok')) {
            candidate.writes!.forEach((name, i) => {
              const before = i === 0 ? o.input.value : (o.input.row?.[name] ?? null);
              if (received(before, o.writes[i] ?? null))
                expect(describes(column(name)), `${candidate.name} moved ${o.writes[i]} into ${name}`).toBe(true);
            });
          }
        }
      }),
      { numRuns: 40, seed: 42 },
    );
  }, 120_000);
});

/** A row-level function (as a model might write it) moving the first or last word of `donor` into `receiver`. */
function moverCandidate(own: string, other: string, donor: string, receiver: string, last: boolean): Candidate {
  const get = (name: string) => (name === own ? '(v ?? "")' : `(row[${JSON.stringify(name)}] ?? "")`);
  const word = last ? 's.slice(s.lastIndexOf(" ") + 1)' : 's.split(" ")[0]';
  const rest = last ? 's.slice(0, Math.max(s.lastIndexOf(" "), 0)).trim()' : 's.slice(s.split(" ")[0].length).trim()';
  const value = (name: string) => (name === receiver ? word : name === donor ? rest : get(name));
  return {
    name: `mover:${donor}->${receiver}`,
    reads: [other],
    writes: [own, other],
    source: `(v, row) => { const s = ${get(donor)}.trim(); return { ${JSON.stringify(own)}: ${value(own)}, ${JSON.stringify(other)}: ${value(other)} }; }`,
  };
}

describe('a primary key', () => {
  const KEYED = parseContract({
    stream: 'keyed',
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'label', type: 'string' },
    ],
  });

  it('is never written: every candidate for its own cluster is refused as writes-primary-key', async () => {
    const id = KEYED.columns[0]!;
    const synthesis = await synthesize({ engine, sandbox, contract: KEYED }, pattern(id, [{ id: ' 7' }, { id: '8 ' }]));
    expect(synthesis.best).toBeUndefined();
    expect(synthesis.tried.length).toBeGreaterThan(0);
    expect(new Set(synthesis.tried.map((t) => t.gate))).toEqual(new Set(['writes-primary-key']));
  });

  it('is never written by a row-level function, nor passes a by-hand check that names it', async () => {
    const candidate: Candidate = {
      name: 'model:move-id',
      reads: ['id'],
      writes: ['label', 'id'],
      source: '(v, row) => ({ "label": v, "id": "9" })',
    };
    expect(readColumns(candidate)).toEqual(['id']);
    const m = await measure({ engine, sandbox, contract: KEYED }, pattern(KEYED.columns[1]!, [{ label: 'x', id: '' }]), candidate);
    expect(m.gate).toMatchObject({ accepted: false, reason: 'writes-primary-key' });
    expect(m.passed).toBe(0);
    expect(await checkFunction('x => x.trim()', sandbox, ' 7', { contract: KEYED, writes: ['id'] })).toMatchObject({
      accepted: false,
      reason: 'writes-primary-key',
    });
    expect(await checkFunction('x => x.trim()', sandbox, ' 7', { contract: KEYED, writes: ['label'] })).toMatchObject({
      accepted: true,
      output: '7',
    });
  });
});

describe('the empty-customer row through ingest, cluster and remediate', () => {
  it('stays out of curated: the customer cluster goes to review and no value moves between columns', async () => {
    const contract: Contract = parseContract({
      stream: 'crm',
      version: 1,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'customer', type: 'string', nullable: false },
        { name: 'note', type: 'string' },
      ],
    });
    const batch = await ingestAndCluster(contract, 'crm', 'id,customer,note\n1,,empty customer\n2,Ada,fine\n');
    try {
      const engineOpts = { ...ENGINE };
      const results = [];
      for (const spec of batch.clusters) {
        const outcome = await remediateCluster(
          {
            store: batch.store,
            workDir: batch.workDir,
            engine: engineOpts,
            sandbox,
            threshold: 0.75,
            model: undefined,
            now: () => new Date('2026-11-23T12:00:00Z'),
          },
          keys.cluster(batch.batch, spec.cluster),
        );
        results.push(settledResult(outcome));
      }
      const customer = results.find((r) => r.column === 'customer')!;
      expect(customer).toMatchObject({ disposition: 'needs-review', tier: 'review' });
      expect(customer.outputs.staged ?? null).toBeNull();
      const review = await engine.rows<{ value: string | null }>(
        `SELECT value FROM read_parquet('${join(batch.root, customer.outputs.quarantine!)}')`,
      );
      expect(review).toHaveLength(1);
    } finally {
      batch.cleanup();
    }
  }, 60_000);
});
