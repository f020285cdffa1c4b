import { createHash, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import type { AuditLine } from '../../lib/audit/audit-chain.ts';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { rollbackBatch } from '../../lib/reconcile/rollback.ts';
import { lookupDigest } from '../../lib/remediate/evidence-function.ts';
import { ClusterManifestSchema, type ClusterManifest } from '../../lib/vault/cluster-manifest.ts';
import { ClusterResultSchema, type ClusterResult } from '../../lib/vault/cluster-result.ts';
import { DecisionSchema, type Decision } from '../../lib/vault/decision.ts';
import type { IngestManifest } from '../../lib/vault/ingest-manifest.ts';
import { ReconcileManifestSchema, type ReconcileManifest } from '../../lib/vault/reconcile-manifest.ts';
import { eventually, manifestOf, readParquet, readText, upload, vaultStore } from '../support/vault.ts';

/**
 * A declared dependency repaired end to end on the real stack: `zip -> city`. Of six rows in zip
 * 35233, five say `birmingham` and one `birminghxm`; the group's evidence (support 5, share 5/6)
 * makes that row suspect `city:dependency` at ingest, cluster gives it one cluster, remediate
 * applies the evidence function `group-dominant:zip->city` (its lookup table's SHA-256 in its
 * source), reconcile promotes the fix with one audit line naming that digest, and rollback brings
 * the typo back from the audit. A second, two-row batch of the same stream has no evidence of its
 * own: the stream's profile, written when the first was promoted, supports the repair.
 */
// A stream of its own per run: its profile (the curated history) must start empty.
const STREAM = `dep-repair-${randomUUID().slice(0, 8)}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  await registerContract(vaultStore(), {
    stream: STREAM,
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'zip', type: 'string', pattern: '[0-9]{5}' },
      { name: 'city', type: 'string', nullable: false },
    ],
    tests: [{ type: 'dependency', determinant: ['zip'], dependent: 'city' }],
  });
});

/** The rows as uploaded, in file order (row_id = position, from 1); the 4th is the typo. */
const ROWS: Array<[zip: string, city: string]> = [
  ['35233', 'birmingham'],
  ['35233', 'birmingham'],
  ['35233', 'birmingham'],
  ['35233', 'birminghxm'],
  ['35233', 'birmingham'],
  ['35233', 'birmingham'],
  ['36604', 'mobile'],
  ['36604', 'mobile'],
  ['36604', 'mobile'],
  ['36604', 'mobile'],
  ['35801', 'huntsville'],
  ['35801', 'huntsville'],
];
const TYPO_ROW = 4;

describe('a zip -> city dependency repaired from the batch evidence (end to end, on the real stack)', () => {
  let batch: string;
  let ids: string[];
  let ingest: IngestManifest;
  let clusters: ClusterManifest;
  let result: ClusterResult;
  let decision: Decision;
  let manifest: ReconcileManifest;

  beforeAll(async () => {
    const tag = randomUUID().slice(0, 8);
    // Ids unique to this run, so the content (and so the batch) is new.
    const base = 1 + Number.parseInt(tag, 16);
    ids = ROWS.map((_, i) => String(base + i));
    const csv = `id,zip,city\n${ROWS.map(([zip, city], i) => `${ids[i]},${zip},${city}`).join('\n')}\n`;
    await upload(`raw/${STREAM}/addresses-${tag}.csv`, csv);
    batch = batchId(STREAM, sha256(csv));
    manifest = ReconcileManifestSchema.parse(
      JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000)),
    );
    ingest = await manifestOf(batch);
    clusters = ClusterManifestSchema.parse(JSON.parse((await readText(keys.clusterManifest(batch)))!));
    const [only] = clusters.clusters;
    if (only) {
      result = ClusterResultSchema.parse(JSON.parse((await readText(keys.clusterResult(batch, only.cluster)))!));
      decision = DecisionSchema.parse(JSON.parse((await readText(keys.decision(batch, only.cluster)))!));
    }
  }, 200_000);

  it('makes the typo row suspect city:dependency at ingest, and nothing else', () => {
    expect(ingest.status).toBe('ingested');
    expect(ingest.reasons).toEqual({ 'city:dependency': 1 });
    expect(ingest.rows).toMatchObject({ source: 12, clean: 11, suspect: 1, quarantined: 0 });
  });

  it('gives the dependency one cluster, fixed by group-dominant:zip->city with the lookup table named by its SHA-256', () => {
    expect(clusters.suspect_rows).toBe(1);
    expect(clusters.clusters.map((c) => [c.column, c.rule, c.cells])).toEqual([['city', 'dependency', 1]]);

    expect(result).toMatchObject({ column: 'city', rule: 'dependency', disposition: 'fixed', tier: 'synthesizer', model_calls: 0 });
    expect(result.counts).toMatchObject({ cells: 1, rows: 1, staged_cells: 1, quarantined_cells: 0 });
    expect(result.function?.name).toBe('group-dominant:zip->city');
    const dependency = result.evidence.dependency!;
    expect(dependency).toMatchObject({
      rules: ['zip->city'],
      determinant: ['zip'],
      groups: 1,
      contested_groups: 0,
      cells: 1,
      min_support: 5,
    });
    expect(dependency.lookup_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(dependency.mean_share).toBeCloseTo(5 / 6, 6);
    expect(dependency.min_share).toBeCloseTo(5 / 6, 6);

    // The table itself is in the decision; its digest is the one the result and the source name.
    expect(decision.function?.name).toBe('group-dominant:zip->city');
    expect(decision.function?.lookup).toEqual({ '35233': 'birmingham' });
    expect(lookupDigest(decision.function!.lookup!)).toBe(dependency.lookup_sha256);
    expect(decision.dependency?.lookup_sha256).toBe(dependency.lookup_sha256);
    expect(result.function!.source).toContain(`const evidence = "sha256:${dependency.lookup_sha256}";`);
    expect(decision.function!.source).toBe(result.function!.source);
  });

  it('promotes a balanced batch: the typo row corrected to birmingham, every other row unchanged', async () => {
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 12, clean: 11, fixed: 1, quarantined: 0 } });
    const { source, clean, fixed, quarantined } = manifest.rows;
    expect(clean + fixed + quarantined).toBe(source);
    expect(manifest.ledger.problems).toEqual({ missing: 0, duplicated: 0, unexpected: 0, mismatched: 0 });
    expect(manifest.gates.filter((g) => !g.passed)).toEqual([]);
    expect(manifest.quarantine_reasons).toEqual({});
    expect(manifest.clusters).toMatchObject({ count: 1, by_tier: { synthesizer: 1 } });

    const curated = await readParquet<{ row_id: string; id: string; zip: string; city: string }>(
      manifest.curated!,
      'SELECT row_id, CAST(id AS VARCHAR) AS id, zip, city FROM t ORDER BY row_id',
    );
    expect(curated.map((r) => [Number(r.row_id), r.id, r.zip, r.city])).toEqual(
      ROWS.map(([zip, city], i) => [i + 1, ids[i], zip, i + 1 === TYPO_ROW ? 'birmingham' : city]),
    );
  });

  it('writes exactly one audit line, for the changed cell, naming the function and its evidence digest', async () => {
    const text = (await readText(manifest.audit!.key))!;
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditLine);
    expect(lines).toHaveLength(1);
    expect(manifest.audit!.lines).toBe(1);
    const [line] = lines;
    expect(line).toMatchObject({
      kind: 'cell-changed',
      stream: STREAM,
      batch,
      row_id: TYPO_ROW,
      pk_hash: sha256(ids[TYPO_ROW - 1]!),
      column: 'city',
      old: 'birminghxm',
      new: 'birmingham',
      function_name: 'group-dominant:zip->city',
      tier: 'synthesizer',
    });
    expect(line!.function).toContain(`sha256:${result.evidence.dependency!.lookup_sha256}`);
    expect(line!.function).toBe(result.function!.source);
    expect((await verifyBatchAudit(vaultStore(), batch)).ok).toBe(true);
  });

  it('rolls the fix back from the audit: birminghxm again, every row as it arrived', async () => {
    const outcome = await rollbackBatch(
      { store: vaultStore(), keys: new VaultKeyStore(vaultStore()), workDir: tmpdir(), engine: { memoryLimit: '256MB', threads: 1 } },
      batch,
    );
    expect(outcome).toMatchObject({ key: keys.rollback(STREAM, batch), rows: 12, reverted_cells: 1, erased_cells: 0 });
    const rolled = await readParquet<Record<string, string>>(outcome.key);
    expect(rolled.map((r) => [Number(r['row_id']), String(r['id']), r['zip'], r['city']])).toEqual(
      ROWS.map(([zip, city], i) => [i + 1, ids[i], zip, city]),
    );
    expect(rolled.find((r) => Number(r['row_id']) === TYPO_ROW)!['city']).toBe('birminghxm');
  });
});

describe("a small batch judged against the stream's curated history (the profile written at promotion)", () => {
  let batch: string;
  let ingest: IngestManifest;
  let result: ClusterResult;
  let manifest: ReconcileManifest;
  let ids: string[];

  beforeAll(async () => {
    // The first batch (above) is promoted by now: its profile object is in the vault.
    const tag = randomUUID().slice(0, 8);
    const base = 1 + Number.parseInt(tag, 16);
    ids = [String(base), String(base + 1)];
    const csv = `id,zip,city\n${ids[0]},35233,birminghxm\n${ids[1]},36604,mobile\n`;
    await upload(`raw/${STREAM}/late-${tag}.csv`, csv);
    batch = batchId(STREAM, sha256(csv));
    manifest = ReconcileManifestSchema.parse(
      JSON.parse(await eventually('reconcile manifest', () => readText(keys.reconcileManifest(batch)), 150_000)),
    );
    ingest = await manifestOf(batch);
    const clusters = ClusterManifestSchema.parse(JSON.parse((await readText(keys.clusterManifest(batch)))!));
    const [only] = clusters.clusters;
    if (only) result = ClusterResultSchema.parse(JSON.parse((await readText(keys.clusterResult(batch, only.cluster)))!));
  }, 200_000);

  it('finds the lone typo from the history: the profile gives the group its support', async () => {
    const profiles = await vaultStore().list(keys.streamProfilePrefix(STREAM));
    expect(profiles.length).toBeGreaterThanOrEqual(1);
    expect(ingest.reasons).toEqual({ 'city:dependency': 1 });
    expect(result).toMatchObject({ column: 'city', rule: 'dependency', disposition: 'fixed' });
    // Six curated birmingham rows of the first batch (its fixed one included) against the one typo.
    expect(result.evidence.dependency).toMatchObject({ rules: ['zip->city'], groups: 1, min_support: 6 });
    expect(result.evidence.dependency!.mean_share).toBeCloseTo(6 / 7, 6);
    expect(manifest).toMatchObject({ status: 'promoted', rows: { source: 2, clean: 1, fixed: 1, quarantined: 0 } });
    const curated = await readParquet<{ id: string; city: string }>(
      manifest.curated!,
      'SELECT CAST(id AS VARCHAR) AS id, city FROM t ORDER BY row_id',
    );
    expect(curated).toEqual([
      { id: ids[0], city: 'birmingham' },
      { id: ids[1], city: 'mobile' },
    ]);
  });
});
