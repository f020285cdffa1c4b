import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogAlertSink, type Alert } from '../../lib/alerts/alerts.ts';
import { clusterBatch } from '../../lib/cluster/cluster-batch.ts';
import { faissIndexFactory } from '../../lib/cluster/faiss-index.ts';
import { HashingEmbedder } from '../../lib/cluster/hashing-embedder.ts';
import { evolveSchema } from '../../lib/contract/evolve-schema.ts';
import { loadContract, parseContract, registerContract } from '../../lib/contract/registry.ts';
import { listProposals } from '../../lib/contract/schema-proposals.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { literal } from '../../lib/engine/sql.ts';
import { ingestObject, type IngestDeps, type IngestOutcome } from '../../lib/ingest/ingest-object.ts';
import { ingestPart } from '../../lib/ingest/ingest-part.ts';
import { keys } from '../../lib/keys.ts';
import { reconcileBatch } from '../../lib/reconcile/reconcile-batch.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { adoptProposal, rejectProposal } from '../../lib/streams/decide-schema.ts';
import { streamState } from '../../lib/streams/stream-control.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { ENGINE } from '../support/local-batch.ts';

/** Schema evolution through the real ingest (and, for the accepted file, cluster and reconcile) on a local vault. */
const contract = (evolution?: string, columns?: unknown[]) => ({
  stream: 'evo',
  version: 1,
  ...(evolution ? { evolution } : {}),
  columns: columns ?? [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal', scale: 2 },
  ],
});
const EXTRA = 'id,amount,note\n1,1.00,first\n2,2.50,\n';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function vault(policy?: string) {
  const dir = join(tmpdir(), `vm-evo-${process.pid}-${Math.random().toString(36).slice(2)}`);
  dirs.push(dir);
  const root = join(dir, 'vault');
  mkdirSync(join(root, 'raw', 'evo'), { recursive: true });
  const store = new FileObjectStore(root);
  await registerContract(store, contract(policy));
  const alerts: Alert[] = [];
  const deps: IngestDeps = { store, alerts: new LogAlertSink((a) => alerts.push(a)), workDir: join(dir, 'work'), engine: ENGINE };
  const ingest = (name: string, csv: string): Promise<IngestOutcome> => {
    writeFileSync(join(root, 'raw', 'evo', name), csv);
    return ingestObject(deps, { bucket: 'local', key: `raw/evo/${name}` });
  };
  return { dir, root, store, deps, alerts, ingest };
}

const batchOf = (outcome: IngestOutcome): string => ('batch' in outcome ? outcome.batch : '');
const driftReport = async (store: FileObjectStore, batch: string) => JSON.parse(await store.readText(keys.driftReport('evo', batch)));

describe('schema evolution by policy at ingest', () => {
  it('additive: a new nullable column is let in under a proposed version, and the curated output carries it', async () => {
    const v = await vault('additive');
    const outcome = await v.ingest('a.csv', EXTRA);
    if (outcome.status !== 'ingested') throw new Error(outcome.status);
    const [proposal] = await listProposals(v.store, 'evo');
    expect(proposal?.verdict).toMatchObject({ accepted: true, rule: 'additive: nullable column added' });
    expect(proposal?.contract.columns.map((c) => [c.name, c.type, c.nullable, c.pii])).toEqual([
      ['id', 'integer', false, false],
      ['amount', 'decimal', true, false],
      ['note', 'string', true, true],
    ]);
    expect(outcome.manifest.contract).toMatchObject({ registry_version: 1, proposal: proposal?.id, version: 2 });
    expect(outcome.manifest.rows).toMatchObject({ source: 2, clean: 2 });
    expect((await streamState(v.store, 'evo')).state).toBe('running');
    expect(v.alerts.filter((a) => a.reason === 'schema-evolved')).toHaveLength(1);
    // The registered contract is untouched until an operator adopts.
    expect((await loadContract(v.store, 'evo'))?.contract.columns.map((c) => c.name)).toEqual(['id', 'amount']);

    const workDir = join(v.dir, 'work');
    await clusterBatch(
      { store: v.store, workDir, engine: ENGINE, embedder: new HashingEmbedder(), makeIndex: faissIndexFactory, mergeSimilarity: 0.85 },
      outcome.manifestKey,
    );
    const reconciled = await reconcileBatch(
      {
        store: v.store,
        alerts: new LogAlertSink(() => {}),
        keys: new VaultKeyStore(v.store),
        workDir,
        engine: ENGINE,
        auditRetentionDays: 1,
      },
      outcome.batch,
    );
    expect(reconciled.status).toBe('reconciled');
    const engine = await Engine.open({ ...ENGINE, spillDir: join(v.dir, 'spill') });
    const curated = join(v.root, keys.curated('evo', outcome.batch));
    const rows = await engine.rows(`SELECT id, note FROM read_parquet(${literal(curated)}) ORDER BY id`).finally(() => engine.close());
    expect(rows).toEqual([
      { id: '1', note: 'first' },
      { id: '2', note: null },
    ]);
  });

  it('a new column whose values are all integers stays text in the proposal, with integer as the hint; files of the header share it', async () => {
    const v = await vault('additive');
    const outcome = await v.ingest('a.csv', 'id,amount,qty\n1,1.00,3\n2,2.00,\n');
    if (outcome.status !== 'ingested') throw new Error(outcome.status);
    const [proposal] = await listProposals(v.store, 'evo');
    expect(proposal?.verdict.changes).toEqual([{ kind: 'added', column: 'qty', detail: 'nullable string' }]);
    expect(proposal?.suggested_types).toEqual({ qty: 'integer' });
    expect(outcome.manifest.rows).toMatchObject({ clean: 2, suspect: 0 });
    // Another file of the same header, whose values are not integers: the same proposal, still clean.
    const other = await v.ingest('b.csv', 'id,amount,qty\n3,3.00,a few\n');
    if (other.status !== 'ingested') throw new Error(other.status);
    expect(other.manifest.contract.proposal).toBe(proposal?.id);
    expect(await listProposals(v.store, 'evo')).toHaveLength(1);
  });

  it('JSON Lines: a new key under additive is let in as a nullable text column, with the hint its values give', async () => {
    const dir = join(tmpdir(), `vm-evo-jsonl-${process.pid}-${Math.random().toString(36).slice(2)}`);
    dirs.push(dir);
    const root = join(dir, 'vault');
    mkdirSync(join(root, 'raw', 'evo'), { recursive: true });
    const store = new FileObjectStore(root);
    await registerContract(store, { ...contract('additive'), format: { type: 'jsonl' } });
    writeFileSync(join(root, 'raw', 'evo', 'a.jsonl'), '{"id":1,"amount":"1.00","seen":"2026-01-02"}\n{"id":2,"amount":"2.50"}\n');
    const outcome = await ingestObject(
      { store, alerts: new LogAlertSink(() => {}), workDir: join(dir, 'work'), engine: ENGINE },
      { bucket: 'local', key: 'raw/evo/a.jsonl' },
    );
    if (outcome.status !== 'ingested') throw new Error(outcome.status);
    const [proposal] = await listProposals(store, 'evo');
    expect(proposal?.verdict).toMatchObject({ accepted: true, changes: [{ kind: 'added', column: 'seen', detail: 'nullable string' }] });
    expect(proposal?.suggested_types).toEqual({ seen: 'date' });
    expect(outcome.manifest.rows).toMatchObject({ source: 2, clean: 2 });
  });

  it('a ragged CSV with a new column is quarantined whole as before, not thrown', async () => {
    const v = await vault('additive');
    const outcome = await v.ingest('a.csv', 'id,amount,qty\n1,1.00,3\n2,2.00,4,5\n');
    expect(outcome).toMatchObject({ status: 'quarantined', manifest: { rejected: { reason: 'csv-ragged-row' } } });
  });

  it('a fanned-out file under additive: every part is checked against the proposal, and the batch manifest names it', async () => {
    const v = await vault('additive');
    const rows = Array.from({ length: 40 }, (_, i) => `${i + 1},${i}.25,note ${i}`).join('\n');
    writeFileSync(join(v.root, 'raw', 'evo', 'big.csv'), `id,amount,note\n${rows}\n`);
    const fanned = await ingestObject({ ...v.deps, partBytes: 200 }, { bucket: 'local', key: 'raw/evo/big.csv' });
    if (fanned.status !== 'fanned-out') throw new Error(fanned.status);
    const plan = JSON.parse(await v.store.readText(fanned.plan)) as { parts: Array<{ key: string }>; contract: { proposal?: string } };
    expect(plan.parts.length).toBeGreaterThan(1);
    const [proposal] = await listProposals(v.store, 'evo');
    expect(plan.contract.proposal).toBe(proposal?.id);
    for (const part of plan.parts) await ingestPart(v.deps, { bucket: 'local', key: part.key });
    const manifest = JSON.parse(await v.store.readText(keys.ingestManifest(fanned.batch)));
    expect(manifest.contract).toMatchObject({ proposal: proposal?.id, registry_version: 1 });
    expect(manifest.rows).toMatchObject({ source: 40, clean: 40 });
  });

  it('the same file under strict halts, with the rule, a proposal to adopt, and the ways out', async () => {
    const v = await vault();
    const outcome = await v.ingest('a.csv', EXTRA);
    expect(outcome).toMatchObject({ status: 'waiting', reason: 'schema-drift' });
    const report = await driftReport(v.store, batchOf(outcome));
    const [proposal] = await listProposals(v.store, 'evo');
    expect(report).toMatchObject({ policy: 'strict', rule: 'strict: nullable column added', proposal: { id: proposal?.id } });
    expect(report.changes).toEqual([{ kind: 'added', column: 'note', detail: 'nullable string' }]);
    expect(report.actions.map((a: { action: string }) => a.action)).toEqual(['adopt', 'resume', 'reject']);
    expect(proposal?.verdict.accepted).toBe(false);
    expect((await streamState(v.store, 'evo')).state).toBe('halted');
  });

  it.each(['strict', 'additive', 'none'])('a removed column halts under %s', async (policy) => {
    const v = await vault(policy);
    const outcome = await v.ingest('a.csv', 'id\n1\n');
    expect(outcome).toMatchObject({ status: 'waiting', reason: 'schema-drift' });
    expect(await driftReport(v.store, batchOf(outcome))).toMatchObject({ policy, rule: 'every policy: column removed' });
  });

  it('a rename reads as a removal and an addition, and halts even under none', async () => {
    const v = await vault('none');
    const outcome = await v.ingest('a.csv', 'id,total\n1,1.00\n');
    expect(await driftReport(v.store, batchOf(outcome))).toMatchObject({
      rule: 'every policy: column removed',
      drift: { renamed: [{ from: 'amount', to: 'total' }] },
    });
  });

  it('adopting the proposal of a halted stream registers it, resumes, and the next file is clean', async () => {
    const v = await vault();
    const first = await v.ingest('a.csv', EXTRA);
    expect(first.status).toBe('waiting');
    const [proposal] = await listProposals(v.store, 'evo');
    if (!proposal) throw new Error('no proposal');
    const adopted = await adoptProposal(v.store, 'evo', proposal.id, { by: 'alice' });
    expect(adopted).toMatchObject({
      registry_version: 2,
      decision: { decision: 'adopted', by: 'alice' },
      resumed: { replayed: ['raw/evo/a.csv'] },
    });
    expect((await streamState(v.store, 'evo')).state).toBe('running');
    const next = await v.ingest('b.csv', 'id,amount,note\n3,3.00,third\n');
    if (next.status !== 'ingested') throw new Error(next.status);
    expect(next.manifest.contract).toEqual({ version: 2, fingerprint: proposal.fingerprint, registry_version: 2 });
    expect(next.manifest.rows).toMatchObject({ clean: 1, suspect: 0 });
    // Adopting again is the same adoption; rejecting after it is refused.
    expect((await adoptProposal(v.store, 'evo', proposal.id, { by: 'bob' })).decision.by).toBe('alice');
    await expect(rejectProposal(v.store, 'evo', proposal.id, { by: 'bob', reason: 'no' })).rejects.toMatchObject({
      code: 'proposal-decided',
    });
  });

  it('a rejected schema is quarantined whole, whatever the policy, and the stream goes on', async () => {
    const v = await vault('additive');
    await v.ingest('a.csv', EXTRA);
    const [proposal] = await listProposals(v.store, 'evo');
    if (!proposal) throw new Error('no proposal');
    await rejectProposal(v.store, 'evo', proposal.id, { by: 'alice', reason: 'note carries free text' });
    // Columns in another order are the same schema.
    const later = await v.ingest('b.csv', 'id,note,amount\n4,x,4.00\n');
    if (later.status !== 'quarantined') throw new Error(later.status);
    expect(later.manifest.rejected).toMatchObject({ reason: 'schema-rejected' });
    expect(later.manifest.rejected?.detail).toContain(`alice rejected (proposal ${proposal.id}: note carries free text)`);
    expect((await streamState(v.store, 'evo')).state).toBe('running');
    await expect(adoptProposal(v.store, 'evo', proposal.id, { by: 'bob' })).rejects.toMatchObject({ code: 'proposal-decided' });
    // Still rejected over a later version of the contract.
    await registerContract(v.store, { ...contract('additive'), version: 2, description: 'a later version' });
    expect((await v.ingest('c.csv', 'id,amount,note\n5,5.00,y\n')).status).toBe('quarantined');
  });

  it('rejecting the schema that halted a stream resumes it: its waiting file is quarantined, the others are replayed', async () => {
    const v = await vault();
    const first = await v.ingest('a.csv', EXTRA);
    expect(first.status).toBe('waiting');
    const [proposal] = await listProposals(v.store, 'evo');
    if (!proposal) throw new Error('no proposal');
    const rejected = await rejectProposal(v.store, 'evo', proposal.id, { by: 'alice', reason: 'no' });
    expect(rejected.resumed?.replayed).toEqual(['raw/evo/a.csv']);
    expect((await streamState(v.store, 'evo')).state).toBe('running');
    // The replay (the store's notification, here by hand): quarantined, not halted again.
    const replayed = await v.ingest('a.csv', EXTRA);
    expect(replayed).toMatchObject({ status: 'quarantined', manifest: { rejected: { reason: 'schema-rejected' } } });
    expect((await streamState(v.store, 'evo')).state).toBe('running');
  });

  it('an adoption is registered once: a re-run after a later registration does not put the old contract back', async () => {
    const v = await vault('additive');
    await v.ingest('a.csv', EXTRA);
    const [proposal] = await listProposals(v.store, 'evo');
    if (!proposal) throw new Error('no proposal');
    expect((await adoptProposal(v.store, 'evo', proposal.id, { by: 'alice' })).registry_version).toBe(2);
    const byHand = await registerContract(v.store, { ...contract('additive'), version: 3, description: 'by hand' });
    expect(byHand.registry_version).toBe(3);
    expect((await adoptProposal(v.store, 'evo', proposal.id, { by: 'alice' })).registry_version).toBe(2);
    expect((await loadContract(v.store, 'evo'))?.registry_version).toBe(3);
  });

  it('of two proposals over one version, the second to be adopted is stale', async () => {
    const v = await vault('additive');
    await v.ingest('a.csv', EXTRA);
    await v.ingest('b.csv', 'id,amount,channel\n6,6.00,web\n');
    const proposals = await listProposals(v.store, 'evo');
    expect(proposals).toHaveLength(2);
    const [p1, p2] = proposals;
    await adoptProposal(v.store, 'evo', p1?.id ?? '', { by: 'alice' });
    await expect(adoptProposal(v.store, 'evo', p2?.id ?? '', { by: 'alice' })).rejects.toMatchObject({ code: 'proposal-stale' });
    expect((await loadContract(v.store, 'evo'))?.contract.columns.map((c) => c.name)).toEqual(p1?.contract.columns.map((c) => c.name));
  });

  it('files of the same new schema share one proposal; a proposal over an older version is stale', async () => {
    const v = await vault('additive');
    await v.ingest('a.csv', EXTRA);
    await v.ingest('b.csv', 'id,amount,note\n5,5.00,y\n');
    const proposals = await listProposals(v.store, 'evo');
    expect(proposals).toHaveLength(1);
    expect(v.alerts.filter((a) => a.reason === 'schema-evolved')).toHaveLength(1);
    await registerContract(v.store, { ...contract('additive'), version: 2, description: 'changed by hand' });
    await expect(adoptProposal(v.store, 'evo', proposals[0]?.id ?? '', { by: 'alice' })).rejects.toMatchObject({ code: 'proposal-stale' });
  });
});

describe('evolveSchema', () => {
  const csv = parseContract(contract('additive'));
  it('names that differ in case only change no column: accepted, except under strict', () => {
    const observed = [
      { name: 'ID', type: 'text' },
      { name: 'amount', type: 'text' },
    ];
    expect(evolveSchema(csv, observed).verdict).toMatchObject({ accepted: true, rule: 'additive: column names differ in case only' });
    const strict = parseContract(contract('strict'));
    expect(evolveSchema(strict, observed).verdict).toMatchObject({ accepted: false, rule: 'strict: column names differ in case only' });
  });
  it('a Parquet integer column stored as a decimal widens; a new column gets the file type', () => {
    const parquet = parseContract({
      ...contract('additive', [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'qty', type: 'integer', min: 0 },
      ]),
      format: { type: 'parquet' },
    });
    const parsed = evolveSchema(parquet, [
      { name: 'id', type: 'integer' },
      { name: 'qty', type: 'decimal' },
      { name: 'seen', type: 'date' },
    ]);
    expect(parsed.verdict).toMatchObject({ accepted: true, rule: 'additive: column widened, nullable column added' });
    expect(parsed.proposed?.columns.find((c) => c.name === 'qty')).toMatchObject({ type: 'decimal', min: 0 });
    expect(parsed.proposed?.columns.find((c) => c.name === 'seen')).toMatchObject({ type: 'date', nullable: true });
  });
  it('a Parquet email or enum column is stored as text: the same column, so a new one is still additive', () => {
    const parquet = parseContract({
      ...contract('additive', [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'email', type: 'email' },
        { name: 'tier', type: 'enum', allowed: ['gold', 'silver'] },
      ]),
      format: { type: 'parquet' },
    });
    const evolved = evolveSchema(parquet, [
      { name: 'id', type: 'integer' },
      { name: 'email', type: 'text' },
      { name: 'tier', type: 'text' },
      { name: 'note', type: 'text' },
    ]);
    expect(evolved.verdict).toMatchObject({ accepted: true, rule: 'additive: nullable column added' });
    expect(evolved.proposed?.columns.map((c) => c.type)).toEqual(['integer', 'email', 'enum', 'string']);
  });
  it('a column name no contract allows halts under every policy, saying why', () => {
    const evolved = evolveSchema(csv, [
      { name: 'id', type: 'text' },
      { name: 'amount', type: 'text' },
      { name: 'row_id', type: 'text' },
    ]);
    expect(evolved.verdict).toMatchObject({ accepted: false, rule: "every policy: the file's columns make no valid contract" });
    expect(evolved.invalid).toMatch(/row_id is reserved/);
  });
});
