import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { clusterOnce } from '../../lib/cluster/cluster-once.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { ingestObject, type IngestOutcome } from '../../lib/ingest/ingest-object.ts';
import { keys } from '../../lib/keys.ts';
import { clusterRunEnds } from '../../lib/lineage/cluster-lineage.ts';
import { ingestRunEnds } from '../../lib/lineage/ingest-lineage.ts';
import { LineageEmitter, type LineageProblem } from '../../lib/lineage/lineage-emitter.ts';
import type { LineageRun } from '../../lib/lineage/lineage-run.ts';
import { reconcileRunEnds } from '../../lib/lineage/reconcile-lineage.ts';
import { remediateRunEnds } from '../../lib/lineage/remediate-lineage.ts';
import { RunEventSchema, type RunEvent } from '../../lib/lineage/run-event.ts';
import { lineageRunId } from '../../lib/lineage/run-id.ts';
import { runMetrics } from '../../lib/lineage/run-metrics.ts';
import type { StepLineage } from '../../lib/lineage/step-lineage.ts';
import type { RunMetric } from '../../lib/lineage/run-metrics.ts';
import { runOfClaim } from '../../lib/lineage/run-of-claim.ts';
import { traceStep, type TraceDeps } from '../../lib/lineage/trace-step.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { reviseBatch } from '../../lib/reconcile/revise-batch.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { remediateReviewed } from '../../lib/remediate/remediate-reviewed.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { decideAsOperator } from '../../lib/review/operator-decision.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { claimScopes } from '../../lib/vault/claims.ts';
import { vaultObjects } from '../../lib/vault/objects.ts';
import { readObject } from '../../lib/vault/vault-object.ts';
import { DESK_CSV, deskContract, ENGINE, localDeps } from '../support/local-batch.ts';
import { openLineageErrors } from '../support/openlineage-validator.ts';

/**
 * OpenLineage run events of every step of a batch, built from the real steps' outcomes on a local
 * vault (the same ObjectStore interface as the S3 one), through the same traceStep the handlers
 * use, and validated against the official OpenLineage JSON schemas (tests/support/openlineage/).
 */
const STREAM = 'lineage';
const BUCKET = 'vaultmend-lineage-test';
const CONTRACT = deskContract(STREAM);

let dir: string;
let store: FileObjectStore;
let workDir: string;
let sandbox: Sandbox;
let emitter: LineageEmitter;
const problems: LineageProblem[] = [];
const metrics: RunMetric[] = [];
const warnings: string[] = [];
let batch: string;
let clusters: string[];

const trace = (): TraceDeps => ({
  lineage: emitter,
  store,
  publish: (m) => metrics.push(m),
  warn: (message) => warnings.push(message),
});
const steps = () => localDeps({ store, workDir }, sandbox);
const ingestDeps = (s: ObjectStore) => ({ store: s, alerts: new LogAlertSink(() => {}), workDir, engine: ENGINE });

async function ingest(name: string, csv: string): Promise<IngestOutcome> {
  mkdirSync(join(dir, 'vault', 'raw', STREAM), { recursive: true });
  writeFileSync(join(dir, 'vault', 'raw', STREAM, name), csv);
  return traceStep(
    trace(),
    (s) => ingestObject(ingestDeps(s), { bucket: BUCKET, key: `raw/${STREAM}/${name}` }),
    (o) => ingestRunEnds(store, BUCKET, o),
  );
}
const cluster = (b: string) =>
  traceStep(
    trace(),
    (s) => clusterOnce({ ...steps().cluster, store: s }, keys.ingestManifest(b)),
    (o) => clusterRunEnds(store, BUCKET, o),
  );
const remediate = (b: string, c: string) =>
  traceStep(
    trace(),
    (s) => remediateCluster({ ...steps().remediate, store: s }, keys.cluster(b, c)),
    (o) => remediateRunEnds(BUCKET, o),
  );
const reconcile = (b: string) =>
  traceStep(
    trace(),
    (s) => reconcileOnce({ ...steps().reconcile, store: s }, b),
    (o, started) => reconcileRunEnds(store, BUCKET, o, started),
  );

async function eventsOf(b: string): Promise<Map<string, RunEvent>> {
  const found = new Map<string, RunEvent>();
  for (const key of await store.list(`lineage/${b}/`)) {
    found.set(key.slice(`lineage/${b}/`.length), RunEventSchema.parse(JSON.parse(await store.readText(key))));
  }
  return found;
}
const event = async (b: string, name: string) => {
  const found = (await eventsOf(b)).get(name);
  if (!found) throw new Error(`no lineage event ${name} of ${b}`);
  return found;
};

beforeAll(async () => {
  dir = join(tmpdir(), `vaultmend-lineage-${process.pid}-${Math.random().toString(36).slice(2)}`);
  workDir = join(dir, 'work');
  mkdirSync(join(dir, 'vault'), { recursive: true });
  store = new FileObjectStore(join(dir, 'vault'));
  await registerContract(store, CONTRACT);
  sandbox = new Sandbox();
  emitter = new LineageEmitter({ store, report: (p) => problems.push(p) });

  const ingested = await ingest('desk.csv', DESK_CSV);
  if (ingested.status !== 'ingested') throw new Error(`not ingested: ${ingested.status}`);
  batch = ingested.batch;
  const clustered = await cluster(batch);
  clusters = clustered.status === 'clustered' ? clustered.clusters : [];
  for (const c of clusters) await remediate(batch, c);
  await reconcile(batch);
}, 120_000);
afterAll(() => {
  sandbox?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('OpenLineage run events of a batch', () => {
  it('leaves a START and a COMPLETE of each step (remediate: of each cluster), each valid against the OpenLineage schema', async () => {
    expect(clusters.length).toBe(2);
    const events = await eventsOf(batch);
    const runs = ['vaultmend.ingest', 'vaultmend.cluster', ...clusters.map((c) => `vaultmend.remediate.${c}`), 'vaultmend.reconcile'];
    expect([...events.keys()].sort()).toEqual(runs.flatMap((r) => [`${r}.COMPLETE.json`, `${r}.START.json`]).sort());
    for (const [name, e] of events) expect(openLineageErrors(e), name).toEqual([]);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('names each run by a UUID derived from job, batch and cluster: START and COMPLETE share it, no two runs do', async () => {
    const events = await eventsOf(batch);
    const ids = new Map<string, string>();
    for (const [name, e] of events) {
      const run = name.replace(/\.(START|COMPLETE)\.json$/, '');
      if (ids.has(run)) expect(e.run.runId, name).toBe(ids.get(run));
      ids.set(run, e.run.runId);
    }
    expect(new Set(ids.values()).size).toBe(ids.size);
    expect(ids.get('vaultmend.ingest')).toBe(lineageRunId({ step: 'ingest', batch }));
    expect(ids.get(`vaultmend.remediate.${clusters[0]}`)).toBe(lineageRunId({ step: 'remediate', batch, qualifier: clusters[0]! }));
    const start = await event(batch, 'vaultmend.cluster.START.json');
    expect(start).toMatchObject({
      eventType: 'START',
      job: { namespace: 'vaultmend', name: 'vaultmend.cluster' },
      inputs: [],
      outputs: [],
    });
    const claim = await readObject(store, vaultObjects.claim.at(claimScopes.cluster(batch), 0));
    expect(start.eventTime).toBe(claim.claimed_at);
  });

  it('ingest: the raw object in with the contract schema and its rows, each lane out with its rows', async () => {
    const complete = await event(batch, 'vaultmend.ingest.COMPLETE.json');
    const manifest = await readObject(store, vaultObjects.ingestManifest.at(batch));
    const namespace = `s3://${BUCKET}`;
    expect(complete.inputs).toEqual([
      {
        namespace,
        name: `raw/${STREAM}/desk.csv`,
        facets: {
          schema: expect.objectContaining({ fields: CONTRACT.columns.map((c) => ({ name: c.name, type: c.type })) }),
          version: expect.objectContaining({ datasetVersion: 'contract-v1' }),
        },
        inputFacets: { dataQualityMetrics: expect.objectContaining({ rowCount: 3, columnMetrics: {} }) },
      },
    ]);
    const out = Object.fromEntries(complete.outputs.map((o) => [o.name, o]));
    expect(Object.keys(out)).toEqual([...manifest.outputs.clean, ...manifest.outputs.suspect]);
    expect(out[manifest.outputs.clean[0]!]!.outputFacets?.['outputStatistics']).toMatchObject({ rowCount: 1 });
    expect(out[manifest.outputs.suspect[0]!]!.outputFacets?.['outputStatistics']).toMatchObject({ rowCount: 2 });
    expect(out[manifest.outputs.clean[0]!]!.facets?.['schema']?.['fields']).toEqual([
      { name: 'row_id', type: 'integer' },
      ...CONTRACT.columns.map((c) => ({ name: c.name, type: c.type })),
    ]);
    expect(metrics).toEqual(
      expect.arrayContaining([
        { name: 'StepLatency', unit: 'Milliseconds', value: expect.any(Number), dimensions: { step: 'ingest', stream: STREAM } },
        { name: 'LaneRows', unit: 'Count', value: 1, dimensions: { step: 'ingest', stream: STREAM, lane: 'clean' } },
        { name: 'LaneRows', unit: 'Count', value: 2, dimensions: { step: 'ingest', stream: STREAM, lane: 'suspect' } },
        { name: 'LaneRows', unit: 'Count', value: 0, dimensions: { step: 'ingest', stream: STREAM, lane: 'quarantined' } },
      ]),
    );
  });

  it('cluster, remediate, reconcile: each step reads what the one before wrote, with row counts', async () => {
    const ingestOut = (await event(batch, 'vaultmend.ingest.COMPLETE.json')).outputs.map((o) => o.name);
    const clustered = await event(batch, 'vaultmend.cluster.COMPLETE.json');
    expect(clustered.inputs.map((i) => i.name)).toEqual(ingestOut.filter((k) => k.startsWith('suspect/')));
    expect(clustered.outputs.map((o) => o.name).sort()).toEqual(clusters.map((c) => keys.clusterCells(batch, c)).sort());
    for (const c of clusters) {
      const remediated = await event(batch, `vaultmend.remediate.${c}.COMPLETE.json`);
      const result = await readObject(store, vaultObjects.clusterResult.at(batch, c));
      expect(remediated.inputs.map((i) => [i.name, i.inputFacets?.['dataQualityMetrics']?.['rowCount']])).toEqual([
        [keys.clusterCells(batch, c), result.counts.cells],
      ]);
      const outputs = [result.outputs.staged, result.outputs.quarantine, result.outputs.audit].filter((k): k is string => k !== null);
      expect(remediated.outputs.map((o) => o.name)).toEqual(outputs);
    }
    const reconciled = await event(batch, 'vaultmend.reconcile.COMPLETE.json');
    const manifest = await readObject(store, vaultObjects.reconcileManifest.at(batch));
    expect(reconciled.inputs.map((i) => i.name)).toEqual(expect.arrayContaining(ingestOut.filter((k) => k.startsWith('clean/'))));
    const out = Object.fromEntries(reconciled.outputs.map((o) => [o.name, o.outputFacets?.['outputStatistics']?.['rowCount']]));
    expect(out).toEqual({ [manifest.curated!]: manifest.rows.clean + manifest.rows.fixed, [manifest.audit!.key]: manifest.audit!.lines });
    const lanes = metrics.filter((m) => m.name === 'LaneRows' && m.dimensions['step'] === 'reconcile');
    expect(Object.fromEntries(lanes.map((m) => [m.dimensions['lane'], m.value]))).toEqual({
      clean: manifest.rows.clean,
      fixed: manifest.rows.fixed,
      quarantined: manifest.rows.quarantined,
    });
    expect(metrics.filter((m) => m.name === 'LaneCells').map((m) => m.dimensions['lane'])).toEqual(
      clusters.flatMap(() => ['fixed', 'quarantined']),
    );
  });

  it('a redelivery of any step writes no event twice and counts nothing again', async () => {
    const before = new Map<string, string>();
    for (const key of await store.list(`lineage/${batch}/`)) before.set(key, await store.readText(key));
    const counted = metrics.length;
    expect((await ingest('desk.csv', DESK_CSV)).status).toBe('already-ingested');
    expect((await cluster(batch)).status).toBe('claimed-elsewhere');
    for (const c of clusters) expect((await remediate(batch, c)).status).toBe('already-remediated');
    expect((await reconcile(batch)).status).toBe('claimed-elsewhere');
    const after = new Map<string, string>();
    for (const key of await store.list(`lineage/${batch}/`)) after.set(key, await store.readText(key));
    expect(after).toEqual(before);
    expect(metrics.length).toBe(counted);
  });

  it("a person's decision: the reviewed cluster and the batch's revision are runs of their own", async () => {
    const review = steps().review;
    let chosen: string | undefined;
    for (const c of clusters) {
      const decided = await decideAsOperator(review, { action: 'choose', batch, cluster: c, operator: 'alice', candidate: 'date:d-m-y' });
      if (decided.status === 'decided') chosen = c;
    }
    expect(chosen, 'the date cluster waits for review').toBeDefined();
    const reviewed = await traceStep(
      trace(),
      (s) => remediateReviewed({ ...steps().remediate, store: s }, keys.review(batch, chosen!)),
      (o) => remediateRunEnds(BUCKET, o),
    );
    expect(reviewed.status).toBe('reviewed');
    const revised = await traceStep(
      trace(),
      (s) => reviseBatch({ ...steps().reconcile, store: s }, batch),
      (o, started) => reconcileRunEnds(store, BUCKET, o, started),
    );
    expect(revised).toMatchObject({ status: 'revised', revision: 1 });
    const events = await eventsOf(batch);
    for (const name of [`vaultmend.remediate.${chosen}.reviewed`, 'vaultmend.reconcile.r1'].flatMap((r) => [
      `${r}.START.json`,
      `${r}.COMPLETE.json`,
    ])) {
      expect(events.has(name), name).toBe(true);
      expect(openLineageErrors(events.get(name)), name).toEqual([]);
    }
    const r1 = events.get('vaultmend.reconcile.r1.COMPLETE.json')!;
    expect(r1.run.runId).toBe(lineageRunId({ step: 'reconcile', batch, qualifier: 'r1' }));
    expect(r1.run.runId).not.toBe(events.get('vaultmend.reconcile.COMPLETE.json')!.run.runId);
    const rev = await readObject(store, vaultObjects.revisionManifest.at(batch, 1));
    expect(r1.outputs.map((o) => o.name)).toEqual([rev.curated, rev.audit!.key]);
    // A revision's curated part holds only the rows no earlier part holds: no row count is claimed for it.
    expect(r1.outputs[0]!.outputFacets).toBeUndefined();
  });

  it('a step that throws after its claim ends its run as FAIL with the error, and the retry completes the same run', async () => {
    const ingested = await ingest('desk-2.csv', `${DESK_CSV}4,3.50 USD,2026-01-04\n`);
    if (ingested.status !== 'ingested') throw new Error(ingested.status);
    const b = ingested.batch;
    const refusing = (s: ObjectStore): ObjectStore =>
      new Proxy(s, {
        get(target, property) {
          if (property === 'put' || property === 'putIfAbsent')
            return (key: string, ...rest: unknown[]) => {
              if (key.startsWith('work/')) throw new Error('the store refused the write (test)');
              return (target[property] as (...a: unknown[]) => unknown).call(target, key, ...rest);
            };
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    await expect(
      traceStep(
        trace(),
        (s) => clusterOnce({ ...steps().cluster, store: refusing(s) }, keys.ingestManifest(b)),
        (o) => clusterRunEnds(store, BUCKET, o),
      ),
    ).rejects.toThrow('the store refused the write');
    const failed = await event(b, 'vaultmend.cluster.FAIL.json');
    expect(openLineageErrors(failed)).toEqual([]);
    expect(failed.run.facets?.['errorMessage']).toMatchObject({
      message: 'Error: the store refused the write (test)',
      programmingLanguage: 'TypeScript',
    });
    // The claim was released on the throw: the platform's retry takes the next generation, in the same run.
    expect((await cluster(b)).status).toBe('clustered');
    const events = await eventsOf(b);
    expect([...events.keys()].filter((k) => k.startsWith('vaultmend.cluster.')).sort()).toEqual([
      'vaultmend.cluster.COMPLETE.json',
      'vaultmend.cluster.FAIL.json',
      'vaultmend.cluster.START.json',
    ]);
    expect(new Set([...events.values()].filter((e) => e.job.name === 'vaultmend.cluster').map((e) => e.run.runId))).toEqual(
      new Set([lineageRunId({ step: 'cluster', batch: b })]),
    );
  });

  it('a throw does not FAIL a run begun without a claim, and a run that finished before the throw COMPLETEs', async () => {
    const b = 'desk-0123456789abcdef0123';
    const part = { step: 'ingest', batch: b } as const;
    const boom = async () => {
      throw new Error('a part failed (test)');
    };
    await expect(traceStep(trace(), boom, () => [], part)).rejects.toThrow('a part failed');
    expect([...(await eventsOf(b)).keys()]).toEqual(['vaultmend.ingest.START.json']);
    const revision = { step: 'reconcile', batch: b, qualifier: 'r1' } as const;
    await expect(
      traceStep(
        trace(),
        boom,
        () => [],
        revision,
        async (started) => started.filter((r) => r.qualifier === 'r1').map((run) => ({ eventType: 'COMPLETE' as const, run })),
      ),
    ).rejects.toThrow('a part failed');
    const events = await eventsOf(b);
    expect([...events.keys()].sort()).toEqual([
      'vaultmend.ingest.START.json',
      'vaultmend.reconcile.r1.COMPLETE.json',
      'vaultmend.reconcile.r1.START.json',
    ]);
    expect(openLineageErrors(events.get('vaultmend.reconcile.r1.COMPLETE.json')!)).toEqual([]);
  });
});

describe('the OpenLineage schema check', () => {
  it('rejects broken events, so the checks above can fail', async () => {
    const good = await event(batch, 'vaultmend.ingest.COMPLETE.json');
    expect(openLineageErrors(good)).toEqual([]);
    const broken = (change: (e: Record<string, any>) => void) => {
      const copy = structuredClone(good) as Record<string, any>;
      change(copy);
      return openLineageErrors(copy);
    };
    expect(broken((e) => (e['run']['runId'] = 'run-1')).join('\n')).toMatch(/runId must match format "uuid"/);
    expect(broken((e) => (e['eventTime'] = 'yesterday')).join('\n')).toMatch(/eventTime must match format "date-time"/);
    expect(broken((e) => delete e['job']['namespace']).join('\n')).toMatch(/namespace/);
    expect(broken((e) => delete e['schemaURL']).join('\n')).toMatch(/schemaURL/);
    expect(broken((e) => (e['outputs'][0]['outputFacets']['outputStatistics']['rowCount'] = '1')).join('\n')).toMatch(
      /outputStatistics\/rowCount must be integer/,
    );
    expect(broken((e) => delete e['inputs'][0]['inputFacets']['dataQualityMetrics']['columnMetrics']).join('\n')).toMatch(/columnMetrics/);
    expect(broken((e) => delete e['inputs'][0]['facets']['schema']['_producer']).join('\n')).toMatch(/_producer/);
    expect(broken((e) => (e['inputs'][0]['facets']['schema']['_schemaURL'] = 'https://example.org/x.json#/$defs/X')).join('\n')).toMatch(
      /names no vendored OpenLineage facet schema/,
    );
  });
});

describe('run ids and claims', () => {
  it('names one run the same on every delivery, and different runs differently (UUID v5, version nibble 5)', () => {
    const ingest = lineageRunId({ step: 'ingest', batch: 'orders-0123456789abcdef0123' });
    expect(lineageRunId({ step: 'ingest', batch: 'orders-0123456789abcdef0123' })).toBe(ingest);
    expect(ingest).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lineageRunId({ step: 'cluster', batch: 'orders-0123456789abcdef0123' })).not.toBe(ingest);
    expect(lineageRunId({ step: 'ingest', batch: 'orders-0123456789abcdef0124' })).not.toBe(ingest);
  });

  it('counts a revision or a reviewed cluster apart from the first pass (pass: again), so the first pass sums each batch once', () => {
    const lineage: StepLineage = { unit: 'rows', lanes: { clean: 3, fixed: 1 }, inputs: [], outputs: [] };
    const lanes = (run: Parameters<typeof runMetrics>[0]) =>
      runMetrics(run, lineage, 5)
        .filter((m) => m.name !== 'StepLatency')
        .map((m) => m.dimensions['pass'] ?? 'first');
    const b = 'orders-0123456789abcdef0123';
    expect(lanes({ step: 'reconcile', batch: b })).toEqual(['first', 'first']);
    expect(lanes({ step: 'reconcile', batch: b, qualifier: 'r2' })).toEqual(['again', 'again']);
    expect(lanes({ step: 'remediate', batch: b, qualifier: 'c-0123456789abcdef' })).toEqual(['first', 'first']);
    expect(lanes({ step: 'remediate', batch: b, qualifier: 'c-0123456789abcdef.reviewed' })).toEqual(['again', 'again']);
  });

  it('reads every step claim scope back as its run', () => {
    const b = 'orders-0123456789abcdef0123';
    const c = 'c-0123456789abcdef';
    const cases: Array<[string, LineageRun]> = [
      [claimScopes.ingest(b), { step: 'ingest', batch: b }],
      [claimScopes.cluster(b), { step: 'cluster', batch: b }],
      [claimScopes.remediate(b, c), { step: 'remediate', batch: b, qualifier: c }],
      [claimScopes.review(b, c), { step: 'remediate', batch: b, qualifier: `${c}.reviewed` }],
      [claimScopes.reconcile(b), { step: 'reconcile', batch: b }],
      [claimScopes.revision(b, 2), { step: 'reconcile', batch: b, qualifier: 'r2' }],
    ];
    for (const [scope, run] of cases) expect(runOfClaim(scope), scope).toEqual(run);
    expect(runOfClaim(`${b}/something-else`)).toBeUndefined();
    expect(new Set(cases.map(([, run]) => lineageRunId(run))).size).toBe(cases.length);
  });
});
