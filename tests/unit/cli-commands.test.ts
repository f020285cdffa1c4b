import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDiff, runShow } from '../../cli/commands/contracts.ts';
import { runReport } from '../../cli/commands/batches.ts';
import { runRegistryList } from '../../cli/commands/registry.ts';
import { runReviewList } from '../../cli/commands/review.ts';
import { runStatus } from '../../cli/commands/status.ts';
import { runUpload, storePutFile } from '../../cli/commands/upload.ts';
import { bufferOut } from '../../cli/io.ts';
import { barText } from '../../cli/progress.ts';
import { UsageError } from '../../cli/usage.ts';
import { watchBatch } from '../../cli/watch.ts';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { loadContract } from '../../lib/contract/registry.ts';
import { batchId, keys } from '../../lib/keys.ts';
import { reconcileOnce } from '../../lib/reconcile/reconcile-once.ts';
import { remediateCluster } from '../../lib/remediate/remediate-cluster.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { ENGINE, ingestAndCluster, type LocalBatch, deskContract, DESK_CSV } from '../support/local-batch.ts';

/**
 * The operators' commands run in-process (their `run*` functions) on a local vault: a batch taken
 * through the real ingest and cluster steps on a file-system store, then remediated and
 * reconciled while `status --watch` follows it.
 */
const CONTRACT = deskContract();
const CSV = DESK_CSV;

let sandbox: Sandbox;
let b: LocalBatch;
let dir: string;
beforeAll(async () => {
  sandbox = new Sandbox();
  b = await ingestAndCluster(CONTRACT, 'desk', CSV, 'desk.csv');
  dir = mkdtempSync(join(tmpdir(), 'vaultmend-cli-commands-'));
});
afterAll(() => {
  sandbox.dispose();
  b.cleanup();
});

/** Writes a contract file and returns its path. */
function contractFile(name: string, contract: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(contract));
  return path;
}

/** Remediates every cluster of the batch, then reconciles it: what the flow does after clustering. */
async function remediateAll(): Promise<void> {
  const deps = { store: b.store, workDir: b.workDir, engine: ENGINE, sandbox, threshold: 0.75, model: undefined };
  for (const spec of b.clusters) await remediateCluster(deps, keys.cluster(b.batch, spec.cluster));
}
async function reconcile(): Promise<void> {
  const deps = {
    store: b.store,
    alerts: new LogAlertSink(() => {}),
    keys: new VaultKeyStore(b.store),
    workDir: b.workDir,
    engine: ENGINE,
    auditRetentionDays: 1,
  };
  await reconcileOnce(deps, b.batch);
}

describe('contracts show and diff', () => {
  it('show: the registered contract as text, the same document as JSON, exit 1 for a stream without one', async () => {
    const text = bufferOut();
    expect(await runShow(b.store, 'desk', text)).toBe(0);
    expect(text.written.stdout).toMatch(/^stream\s+desk$/m);
    expect(text.written.stdout).toMatch(/^id\s+integer\s+no\s+yes\s+no\s+-$/m);
    expect(text.written.stdout).toMatch(/^amount\s+decimal\s+yes\s+no\s+no\s+scale 2$/m);
    const json = bufferOut();
    expect(await runShow(b.store, 'desk', json, true)).toBe(0);
    expect(JSON.parse(json.written.stdout)).toEqual(await loadContract(b.store, 'desk'));
    const none = bufferOut();
    expect(await runShow(b.store, 'nosuch', none)).toBe(1);
    expect(none.written.stdout).toBe('');
    expect(none.written.stderr).toContain('vaultmend contracts register nosuch.contract.json');
  });

  it('diff: exit 0 when the file is the registered contract, exit 1 with every difference when not', async () => {
    const same = bufferOut();
    expect(await runDiff(b.store, 'desk', contractFile('same.json', CONTRACT), same)).toBe(0);
    expect(same.written.stdout).toContain('no difference');
    const changed = {
      ...CONTRACT,
      version: 2,
      columns: [
        { name: 'id', type: 'integer', primary_key: true },
        { name: 'amount', type: 'string' },
        { name: 'seen_on', type: 'date', pii: true },
        { name: 'note', type: 'string', nullable: false },
      ],
      tests: [{ type: 'unique', columns: ['id'] }],
    };
    const file = contractFile('changed.json', changed);
    const text = bufferOut();
    expect(await runDiff(b.store, 'desk', file, text)).toBe(1);
    expect(text.written.stdout).toMatch(/^\+\s+column\s+note \(string, not null\)$/m);
    expect(text.written.stdout).toMatch(/^~\s+column\s+amount\.type: "decimal" -> "string"$/m);
    expect(text.written.stdout).toMatch(/^~\s+column\s+seen_on\.pii: false -> true$/m);
    const json = bufferOut();
    expect(await runDiff(b.store, 'desk', file, json, true)).toBe(1);
    const diff = JSON.parse(json.written.stdout);
    expect(diff).toMatchObject({ stream: 'desk', same: false, version: { old: 1, new: 2 }, fingerprint: { changed: true } });
    expect(diff.columns.added.map((c: { name: string }) => c.name)).toEqual(['note']);
    expect(diff.columns.removed).toEqual([]);
    expect(diff.columns.changed).toEqual([
      { field: 'amount.scale', old: 2 },
      { field: 'amount.type', old: 'decimal', new: 'string' },
      { field: 'seen_on.pii', old: false, new: true },
    ]);
    expect(diff.tests).toEqual({ added: [{ type: 'unique', columns: ['id'] }], removed: [] });
  });

  it('diff: a file of another stream is a usage error, a stream without a contract exits 1', async () => {
    await expect(runDiff(b.store, 'other', contractFile('d.json', CONTRACT), bufferOut())).rejects.toThrow(UsageError);
    const none = bufferOut();
    expect(await runDiff(b.store, 'other', contractFile('o.json', { ...CONTRACT, stream: 'other' }), none)).toBe(1);
    expect(none.written.stderr).toContain('no contract is registered for stream other');
  });
});

describe('status, watch, report, review on a batch as it goes through the flow', () => {
  it('report before reconcile: exit 1, and says to look at the status', async () => {
    const out = bufferOut();
    expect(await runReport(b.store, b.batch, out)).toBe(1);
    expect(out.written.stderr).toBe(`batch not reconciled yet (vaultmend status ${b.batch})\n`);
  });

  it('status: one batch, and every stream with its batches, as text and as JSON', async () => {
    const one = bufferOut();
    expect(await runStatus(b.store, b.batch, {}, one)).toBe(0);
    expect(one.written.stdout).toMatch(/^stage\s+remediating$/m);
    expect(one.written.stdout).toMatch(/^results\s+0 of 2 clusters$/m);
    const all = bufferOut();
    expect(await runStatus(b.store, undefined, { json: true }, all)).toBe(0);
    expect(JSON.parse(all.written.stdout)).toEqual([
      expect.objectContaining({
        stream: 'desk',
        state: 'running',
        batches: [expect.objectContaining({ batch: b.batch, stage: 'remediating' })],
      }),
    ]);
    const text = bufferOut();
    await runStatus(b.store, undefined, {}, text);
    expect(text.written.stdout).toMatch(/^desk {2}running {2}0 files waiting {2}1 batch$/m);
    expect(text.written.stdout).toMatch(new RegExp(`^ {2}${b.batch}\\s+remediating\\s+0/2\\s+-`, 'm'));
  });

  it('status --watch: a line per change, until the batch reaches a final stage', async () => {
    const out = bufferOut();
    const steps = [remediateAll, reconcile];
    let clock = Date.parse('2026-12-01T10:00:00Z');
    const sleep = async (ms: number) => {
      clock += ms;
      await steps.shift()?.();
    };
    const code = await watchBatch(b.store, b.batch, { intervalMs: 2000, timeoutMs: 60_000, now: () => clock, sleep }, out);
    const lines = out.written.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('10:00:00  remediating  results 0/2');
    expect(lines[1]).toMatch(/^10:00:02 {2}reconciling {2}results 2\/2 {2}review 1$/);
    expect(lines.at(-1)).toMatch(
      /^10:00:04 {2}(promoted|waiting-for-review) {2}results 2\/2 {2}rows 3: 1 clean, 1 fixed, 1 quarantined {2}review 1$/,
    );
    expect(lines).toHaveLength(3);
    expect(out.written.stderr).toMatch(/is promoted|waits for review: a person must act/);
    expect(code).toBe(0);
  });

  it('status --watch gives up after its timeout with exit 1', async () => {
    const out = bufferOut();
    let clock = 0;
    const options = { intervalMs: 2000, timeoutMs: 5000, now: () => clock, sleep: async (ms: number) => void (clock += ms) };
    expect(await watchBatch(b.store, 'desk-00000000000000000000', options, out, true)).toBe(1);
    expect(
      out.written.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).stage),
    ).toEqual(['not-ingested']);
    expect(out.written.stderr).toBe('timed out after 5 s watching desk-00000000000000000000 (it is still not-ingested)\n');
  });

  it('report: the reconciled batch as text, and reports/<batch>.json as JSON', async () => {
    const text = bufferOut();
    expect(await runReport(b.store, b.batch, text)).toBe(0);
    expect(text.written.stdout).toMatch(/^rows\s+3: 1 clean, 2 suspect, 1 fixed, 1 quarantined, 0 duplicates collapsed$/m);
    expect(text.written.stdout).toMatch(/^2 error patterns$/m);
    const json = bufferOut();
    await runReport(b.store, b.batch, json, true);
    expect(JSON.parse(json.written.stdout)).toEqual(JSON.parse(await b.store.readText(keys.report(b.batch))));
  });

  it('review: the clusters waiting, of one batch or of all', async () => {
    const all = bufferOut();
    expect(await runReviewList(b.store, undefined, all, true)).toBe(0);
    const waiting = JSON.parse(all.written.stdout);
    expect(waiting).toEqual([expect.objectContaining({ batch: b.batch, column: 'seen_on', disposition: 'needs-review', cells: 1 })]);
    const one = bufferOut();
    await runReviewList(b.store, b.batch, one);
    expect(one.written.stdout).toMatch(new RegExp(`^${b.batch}\\s+${waiting[0].cluster}\\s+seen_on\\s+type\\s+needs-review\\s+1$`, 'm'));
    const none = bufferOut();
    await runReviewList(b.store, 'desk-00000000000000000000', none);
    expect(none.written.stdout).toBe('nothing waits for review in desk-00000000000000000000\n');
  });

  it('registry list: the measured function, as text and JSON', async () => {
    const json = bufferOut();
    await runRegistryList(b.store, 'desk', json, true);
    expect(JSON.parse(json.written.stdout)).toEqual([expect.objectContaining({ column: 'amount', approved_by: 'measured' })]);
    const text = bufferOut();
    await runRegistryList(b.store, 'desk', text);
    expect(text.written.stdout).toMatch(/^signature\s+column\s+rule\s+function\s+approved by$/m);
  });
});

describe('upload', () => {
  it('puts the file at raw/<stream>/<name>, and names the batch its content becomes', async () => {
    const file = join(dir, 'more.csv');
    writeFileSync(file, 'id,amount,seen_on\n9,9.00,2026-02-02\n');
    const out = bufferOut();
    expect(await runUpload(b.store, storePutFile(b.store), { file, stream: 'desk', name: 'in/more.csv' }, out, true)).toBe(0);
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(JSON.parse(out.written.stdout)).toEqual({
      key: 'raw/desk/in/more.csv',
      bytes: 36,
      sha256: sha,
      batch: batchId('desk', sha),
      version_id: null,
    });
    expect(await b.store.readText('raw/desk/in/more.csv')).toBe(readFileSync(file, 'utf8'));
    expect(out.written.stderr).toBe('uploading raw/desk/in/more.csv 0.0 MB done\n'); // not a terminal: one line at the end
  });

  it('on a terminal draws a bar; says when the content was ingested before', async () => {
    const out = bufferOut(true);
    writeFileSync(join(dir, 'desk.csv'), CSV);
    expect(await runUpload(b.store, storePutFile(b.store), { file: join(dir, 'desk.csv'), stream: 'desk' }, out)).toBe(0);
    expect(out.written.stderr).toContain(`this content was ingested before as ${b.batch}: the upload changes nothing`);
    expect(out.written.stderr).toContain(`\ruploading raw/desk/desk.csv [${'#'.repeat(30)}] 100% 0.0/0.0 MB\n`);
    expect(out.written.stdout).toMatch(new RegExp(`^batch\\s+${b.batch}$`, 'm'));
  });

  it('refuses a missing file (usage) and a stream without a contract (exit 1, with the command to register one)', async () => {
    await expect(runUpload(b.store, storePutFile(b.store), { file: join(dir, 'nope.csv'), stream: 'desk' }, bufferOut())).rejects.toThrow(
      /no such file/,
    );
    const out = bufferOut();
    const file = contractFile('x.csv', 'a');
    expect(await runUpload(b.store, storePutFile(b.store), { file, stream: 'nostream' }, out)).toBe(1);
    expect(out.written.stderr).toContain('vaultmend contracts register nostream.contract.json');
    expect(await b.store.exists('raw/nostream/x.csv')).toBe(false);
  });
});

describe('the progress bar', () => {
  it('shows the share, and megabytes sent of the total', () => {
    expect(barText(12_300_000, 29_000_000, 10)).toBe('[####......] 42% 12.3/29.0 MB');
    expect(barText(0, 0, 4)).toBe('[####] 100% 0.0/0.0 MB');
  });
});
