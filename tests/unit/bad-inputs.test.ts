import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { ContractInvalidError, parseContractText, registerContract } from '../../lib/contract/registry.ts';
import { ingestObject, type IngestOutcome } from '../../lib/ingest/ingest-object.ts';
import { keys } from '../../lib/keys.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';
import { countsBalance } from '../../lib/vault/ingest-manifest.ts';
import { BAD_INPUT_CONTRACTS, BAD_INPUTS, type BadInput, type BadInputStatus, badInputKey } from '../support/bad-inputs.ts';
import { ENGINE } from '../support/local-batch.ts';

/**
 * The bad-input corpus through the real ingest on a local store: each file ends as an outcome with
 * its reason code (never a throw out of ingest), its raw bytes unchanged in the vault, and every
 * row of an ingested batch accounted for. Writes a summary to .stack/bad-input.json, or to the
 * committed tests/bench/results/bad-input.json when WRITE_RESULTS=1.
 */
interface Result {
  name: string;
  outcome: BadInputStatus;
  reason: string | null;
  ms: number;
}

const results: Result[] = [];
const root = mkdtempSync(join(tmpdir(), 'vm-bad-inputs-'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  writeSummary();
});

/** A fresh vault with the corpus's contracts: no entry sees another's halted stream. */
async function freshVault(index: number): Promise<{ store: FileObjectStore; workDir: string }> {
  const dir = join(root, String(index));
  const store = new FileObjectStore(join(dir, 'vault'));
  for (const contract of BAD_INPUT_CONTRACTS) await registerContract(store, contract);
  return { store, workDir: join(dir, 'work') };
}

/** What an outcome counts as, and its reason: the whole object's, or the first row reason of an ingested batch. */
function summarise(outcome: IngestOutcome): { outcome: BadInputStatus; reason: string | null } {
  switch (outcome.status) {
    case 'ingested':
      return {
        outcome: 'ingested',
        reason: Object.keys(outcome.manifest.reasons)[0] ?? (outcome.manifest.rows?.quarantined ? 'pk:conflict' : null),
      };
    case 'quarantined':
      return { outcome: 'quarantined', reason: outcome.manifest.rejected?.reason ?? null };
    case 'refused':
      return { outcome: outcome.reason === 'key-unsafe' ? 'refused-key' : 'refused', reason: outcome.reason };
    case 'waiting':
      return { outcome: 'waiting', reason: outcome.reason };
    default:
      throw new Error(`unexpected outcome ${outcome.status}`);
  }
}

/** The outcome's records are in the vault: a quarantined object's record and manifest, a refusal's record. */
async function expectRecorded(store: FileObjectStore, outcome: IngestOutcome, entry: BadInput): Promise<void> {
  if (outcome.status === 'quarantined') {
    expect(outcome.manifest.rows).toBeNull();
    const record = JSON.parse(await store.readText(outcome.manifest.outputs.quarantine[0]!));
    expect(record).toMatchObject({ reason: entry.expect.reason, key: badInputKey(entry) });
    expect(outcome.manifest.rejected?.detail).toMatch(/\S/);
  }
  if (outcome.status === 'refused') expect(await store.exists(outcome.record)).toBe(true);
  if (outcome.status === 'ingested') {
    // Every row accounted for: source = clean + suspect + quarantined + duplicates_collapsed.
    expect(countsBalance(outcome.manifest.rows!)).toBe(true);
    if (entry.expect.rows) expect(outcome.manifest.rows).toMatchObject(entry.expect.rows);
    if (entry.expect.reason && entry.expect.reason !== 'pk:conflict')
      expect(outcome.manifest.reasons[entry.expect.reason]).toBeGreaterThan(0);
  }
  if (outcome.status === 'waiting') expect(await store.exists(keys.streamState(entry.stream))).toBe(true);
}

/** The bytes the vault holds under `key`, read back. */
async function storedBytes(store: FileObjectStore, key: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await store.read(key)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function runObject(entry: BadInput, index: number): Promise<Result> {
  const { store, workDir } = await freshVault(index);
  const key = badInputKey(entry);
  const bytes = entry.bytes();
  await store.put(key, bytes);
  const started = performance.now();
  // A refused object is an outcome: anything thrown out of ingest fails the entry here.
  const outcome = await ingestObject({ store, alerts: new LogAlertSink(() => {}), workDir, engine: ENGINE }, { bucket: 'local', key });
  const ms = Math.round(performance.now() - started);
  await expectRecorded(store, outcome, entry);
  expect(sha256(await storedBytes(store, key))).toBe(sha256(bytes));
  return { name: entry.name, ...summarise(outcome), ms };
}

async function runContract(entry: BadInput, index: number): Promise<Result> {
  const { store } = await freshVault(index);
  const source = `${entry.stream}.json`;
  let refused: unknown;
  try {
    await registerContract(store, parseContractText(Buffer.from(entry.bytes()).toString('utf8'), source), new Date(), source);
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(ContractInvalidError);
  const error = refused as ContractInvalidError;
  expect(error.message).toMatch(entry.expect.message ?? /./);
  expect(await store.exists(keys.contract(entry.stream))).toBe(false);
  return { name: entry.name, outcome: 'contract-refused', reason: error.code, ms: 0 };
}

function writeSummary(): void {
  const count = (pick: (r: Result) => string) =>
    Object.fromEntries(
      Object.entries(Object.groupBy(results, pick))
        .map(([k, v]) => [k, v!.length] as const)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  const summary = {
    date: new Date().toISOString(),
    files: results.length,
    by_outcome: count((r) => r.outcome),
    by_reason: count((r) => r.reason ?? 'none'),
    entries: results.map(({ name, outcome, reason, ms }) => ({ name, outcome, reason, ms })),
  };
  const path = process.env['WRITE_RESULTS'] === '1' ? resolve('tests/bench/results/bad-input.json') : resolve('.stack/bad-input.json');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`);
}

describe('bad input: every file ends as an outcome with a reason code, its raw bytes kept, every row counted', () => {
  it('has a corpus of at least 60 entries with unique names', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(BAD_INPUTS.map((e) => e.name)).size).toBe(BAD_INPUTS.length);
  });

  it.each(BAD_INPUTS.map((entry, index) => [entry.name, entry, index] as const))('%s', async (_name, entry, index) => {
    const result = entry.contract ? await runContract(entry, index) : await runObject(entry, index);
    results.push(result);
    expect({ outcome: result.outcome, reason: result.reason }).toEqual({
      outcome: entry.expect.status,
      reason: entry.expect.reason ?? null,
    });
  });

  it('refuses a gzip bomb within seconds, not after decompressing it', () => {
    const bombs = results.filter((r) => r.reason === 'gzip-bomb');
    expect(bombs).toHaveLength(2);
    for (const bomb of bombs) expect(bomb.ms).toBeLessThan(5_000);
  });

  it('refuses a gzip whose content passes the configured size (gzip-too-large), its ratio being ordinary', async () => {
    const { store, workDir } = await freshVault(BAD_INPUTS.length);
    const lines = Array.from({ length: 60_000 }, (_, i) => `${i + 1},name ${i * 7919},${i},2026-01-01`);
    const bytes = gzipSync(`id,name,qty,day\n${lines.join('\n')}\n`);
    await store.put('raw/orders/large.csv.gz', bytes);
    const deps = { store, alerts: new LogAlertSink(() => {}), workDir, engine: ENGINE, gzipLimits: { maxRatio: 100, maxBytes: 1 << 20 } };
    const outcome = await ingestObject(deps, { bucket: 'local', key: 'raw/orders/large.csv.gz' });
    expect(outcome.status === 'quarantined' && outcome.manifest.rejected).toMatchObject({ reason: 'gzip-too-large' });
    expect(sha256(await storedBytes(store, 'raw/orders/large.csv.gz'))).toBe(sha256(bytes));
  });
});
