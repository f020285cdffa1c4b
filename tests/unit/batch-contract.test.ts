import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contractOfBatch } from '../../lib/contract/batch-contract.ts';
import { registerContract } from '../../lib/contract/registry.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';

/** Every step after ingest reads the contract its batch was checked against, never simply the current one. */
const dir = mkdtempSync(join(tmpdir(), 'batch-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'vault'));
const store = new FileObjectStore(join(dir, 'vault'));
const v1 = { stream: 'desk', version: 1, columns: [{ name: 'id', type: 'integer', primary_key: true }] };
const v2 = { ...v1, version: 2, columns: [...v1.columns, { name: 'note', type: 'string' }] };

describe('contractOfBatch', () => {
  it('reads the registry version a manifest names, and for an older manifest without one, the version with its fingerprint', async () => {
    const first = await registerContract(store, v1);
    await registerContract(store, v2);
    const names = async (ref: Parameters<typeof contractOfBatch>[2]) =>
      (await contractOfBatch(store, 'desk', ref)).columns.map((c) => c.name);
    expect(await names({ version: 1, fingerprint: first.fingerprint, registry_version: 1 })).toEqual(['id']);
    expect(await names({ version: 1, fingerprint: first.fingerprint })).toEqual(['id']);
    // Nothing recorded matches: the current contract, as before versions were kept.
    expect(await names({ version: 7, fingerprint: 'f'.repeat(64) })).toEqual(['id', 'note']);
  });

  it('refuses a version or proposal the manifest names that the registry does not hold', async () => {
    await expect(contractOfBatch(store, 'desk', { version: 1, fingerprint: 'x', registry_version: 9 })).rejects.toMatchObject({
      code: 'contract-missing',
    });
    await expect(contractOfBatch(store, 'desk', { version: 2, fingerprint: 'x', proposal: '0123456789abcdef' })).rejects.toMatchObject({
      code: 'contract-missing',
    });
  });
});
