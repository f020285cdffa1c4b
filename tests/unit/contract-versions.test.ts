import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDiffVersions, runHistory, runShow } from '../../cli/commands/contracts.ts';
import { bufferOut } from '../../cli/io.ts';
import { contractHistory, loadContractVersion, recordVersion, versionNumbers } from '../../lib/contract/contract-versions.ts';
import { loadContract, registerContract } from '../../lib/contract/registry.ts';
import { keys } from '../../lib/keys.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';

/** The registry keeps every version of a stream's contract: a change makes the next one, the same contract none. */
const dir = mkdtempSync(join(tmpdir(), 'contract-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'vault'));
const store = new FileObjectStore(join(dir, 'vault'));

const v1 = {
  stream: 'shop',
  version: 1,
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal' },
  ],
};
const v2 = { ...v1, version: 2, columns: [...v1.columns, { name: 'note', type: 'string' }] };

describe('contract versions', () => {
  it('records a changed contract as the next version, the same one as no version, and never rewrites one', async () => {
    const first = await registerContract(store, v1, new Date('2026-12-01T10:00:00Z'));
    expect(first.registry_version).toBe(1);
    expect((await registerContract(store, v1, new Date('2026-12-01T11:00:00Z'))).registry_version).toBe(1);
    const second = await registerContract(store, v2, new Date('2026-12-01T12:00:00Z'));
    expect(second.registry_version).toBe(2);
    // Back to the first contract: a third version (history is not rewritten).
    expect((await registerContract(store, v1, new Date('2026-12-01T13:00:00Z'))).registry_version).toBe(3);
    expect(await versionNumbers(store, 'shop')).toEqual([1, 2, 3]);
    expect((await loadContract(store, 'shop'))?.registry_version).toBe(3);
    const history = await contractHistory(store, 'shop');
    expect(history.map((v) => [v.version, (v.contract as { version: number }).version, v.registered_at])).toEqual([
      [1, 1, '2026-12-01T10:00:00.000Z'],
      [2, 2, '2026-12-01T12:00:00.000Z'],
      [3, 1, '2026-12-01T13:00:00.000Z'],
    ]);
    expect(await store.readText(keys.contractVersion('shop', 2))).toContain('"note"');
    expect(await loadContractVersion(store, 'shop', 9)).toBeUndefined();
  });

  it('gives a registration that lost the race for a number the next one', async () => {
    const registered = await registerContract(store, { ...v1, stream: 'race' });
    // Another registration took number 2 meanwhile with another contract.
    await store.putIfAbsent(
      keys.contractVersion('race', 2),
      JSON.stringify({ stream: 'race', version: 2, contract: { other: true }, fingerprint: 'f', registered_at: 'now' }),
    );
    const next = { ...registered, contract: { ...registered.contract, description: 'changed' } };
    expect(await recordVersion(store, next)).toEqual({ version: 3, created: true });
  });

  it('shows one version, lists the history and diffs two versions from the command line', async () => {
    const shown = bufferOut();
    expect(await runShow(store, 'shop', shown, false, 2)).toBe(0);
    expect(shown.written.stdout).toMatch(/^note\s+string/m);
    const missing = bufferOut();
    expect(await runShow(store, 'shop', missing, false, 7)).toBe(1);
    expect(missing.written.stderr).toContain('vaultmend contracts history shop');

    const history = bufferOut();
    expect(await runHistory(store, 'shop', history, true)).toBe(0);
    expect((JSON.parse(history.written.stdout) as { version: number; columns: number }[]).map((r) => [r.version, r.columns])).toEqual([
      [1, 2],
      [2, 3],
      [3, 2],
    ]);
    const none = bufferOut();
    expect(await runHistory(store, 'nosuch', none)).toBe(1);

    const diff = bufferOut();
    expect(await runDiffVersions(store, 'shop', 1, 2, diff, true)).toBe(1);
    const parsed = JSON.parse(diff.written.stdout) as { columns: { added: { name: string }[]; removed: unknown[] } };
    expect(parsed.columns.added.map((c) => c.name)).toEqual(['note']);
    expect(parsed.columns.removed).toEqual([]);
    const sameDiff = bufferOut();
    expect(await runDiffVersions(store, 'shop', 1, 3, sameDiff)).toBe(0);
  });
});
