import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDiff, runRegister } from '../../cli/commands/contracts.ts';
import { runStreamStatus } from '../../cli/commands/stream.ts';
import { LogAlertSink } from '../../lib/alerts/alerts.ts';
import { ingestObject } from '../../lib/ingest/ingest-object.ts';
import { ENGINE } from '../support/local-batch.ts';
import { runDecide, runProposals } from '../../cli/commands/proposals.ts';
import { bufferOut } from '../../cli/io.ts';
import { evolveSchema } from '../../lib/contract/evolve-schema.ts';
import { loadContract, parseContract, registerContract } from '../../lib/contract/registry.ts';
import { proposeVersion } from '../../lib/contract/schema-proposals.ts';
import { FileObjectStore } from '../../lib/store/file-object-store.ts';

/** `contracts proposals | adopt | reject` and what `contracts register` says of a schema change, on a local vault. */
const dir = mkdtempSync(join(tmpdir(), 'cli-proposals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'vault'));
const store = new FileObjectStore(join(dir, 'vault'));
const shop = (stream: string) => ({
  stream,
  version: 1,
  evolution: 'additive',
  columns: [
    { name: 'id', type: 'integer', primary_key: true },
    { name: 'amount', type: 'decimal' },
  ],
});

/** A proposal as a file with an extra `note` column makes it. */
async function proposal(stream: string) {
  const registered = await registerContract(store, shop(stream));
  const observed = ['id', 'amount', 'note'].map((name) => ({ name, type: 'text' }));
  const evolution = evolveSchema(registered.contract, observed);
  if (!evolution.proposed) throw new Error('no proposal');
  const at = new Date('2026-12-02T02:10:00Z');
  return proposeVersion(store, {
    suggested: { note: 'integer' },
    registered,
    evolution: { ...evolution, proposed: evolution.proposed },
    batch: `${stream}-b`,
    key: `raw/${stream}/a.csv`,
    at,
  });
}

describe('vaultmend contracts proposals | adopt | reject', () => {
  it('lists a stream’s proposals with their verdict and changes; exit 1 and a hint when there are none', async () => {
    const p = await proposal('listed');
    const text = bufferOut();
    expect(await runProposals(store, 'listed', text)).toBe(0);
    expect(text.written.stdout).toContain(`${p.id}  over version 1  accepted (additive: nullable column added)  open`);
    expect(text.written.stdout).toContain('added note: nullable string');
    expect(text.written.stdout).toContain("the first file's values suggest: note integer");
    const json = bufferOut();
    expect(await runProposals(store, 'listed', json, true)).toBe(0);
    expect(JSON.parse(json.written.stdout)[0]).toMatchObject({ id: p.id, verdict: { accepted: true } });
    const none = bufferOut();
    expect(await runProposals(store, 'nothing', none)).toBe(1);
    expect(none.written.stderr).toContain('has no schema proposals');
  });

  it('adopt registers the proposal as the next version; reject afterwards is refused with what stands', async () => {
    const p = await proposal('adopted');
    const out = bufferOut();
    expect(await runDecide(store, 'adopt', 'adopted', p.id, { by: 'alice' }, out)).toBe(0);
    expect(out.written.stdout).toContain(`schema proposal ${p.id} of adopted: adopted by alice`);
    expect(out.written.stdout).toContain('registered as version 2');
    expect((await loadContract(store, 'adopted'))?.contract.columns.map((c) => c.name)).toEqual(['id', 'amount', 'note']);
    await expect(runDecide(store, 'reject', 'adopted', p.id, { by: 'bob', reason: 'late' }, bufferOut())).rejects.toThrow(
      /was adopted by alice .*a decision stands/,
    );
  });

  it('reject records the reason; an unknown id says how to list them', async () => {
    const p = await proposal('rejected');
    const out = bufferOut();
    expect(await runDecide(store, 'reject', 'rejected', p.id, { by: 'carol', reason: 'free text may hold PII' }, out, true)).toBe(0);
    expect(JSON.parse(out.written.stdout).decision).toMatchObject({ decision: 'rejected', by: 'carol', reason: 'free text may hold PII' });
    await expect(runDecide(store, 'adopt', 'rejected', '0123456789abcdef', { by: 'carol' }, bufferOut())).rejects.toThrow(
      /no schema proposal 0123456789abcdef: `vaultmend contracts proposals rejected` lists them/,
    );
  });

  it('stream status of a stream halted for drift names the rule and the ways out, with their commands', async () => {
    const registered = await registerContract(store, { ...shop('halted'), evolution: 'strict' });
    mkdirSync(join(dir, 'vault', 'raw', 'halted'), { recursive: true });
    writeFileSync(join(dir, 'vault', 'raw', 'halted', 'a.csv'), 'id,amount,note\n1,1.00,x\n');
    const deps = { store, alerts: new LogAlertSink(() => {}), workDir: join(dir, 'work'), engine: ENGINE };
    expect((await ingestObject(deps, { bucket: 'local', key: 'raw/halted/a.csv' })).status).toBe('waiting');
    const out = bufferOut();
    expect(await runStreamStatus(store, 'halted', out)).toBe(0);
    expect(out.written.stdout).toMatch(/^rule\s+strict: nullable column added$/m);
    expect(out.written.stdout).toMatch(/^adopt: vaultmend contracts adopt halted [0-9a-f]{16}$/m);
    expect(out.written.stdout).toContain('reject: vaultmend contracts reject halted');
    // contracts diff says what the policy would make of a local contract with the same column.
    const file = join(dir, 'next.json');
    writeFileSync(
      file,
      JSON.stringify({ ...registered.contract, version: 2, columns: [...registered.contract.columns, { name: 'note', type: 'string' }] }),
    );
    const diff = bufferOut();
    expect(await runDiff(store, 'halted', file, diff)).toBe(1);
    expect(diff.written.stdout).toContain('policy strict on this change of columns: not compatible (strict: nullable column added)');
  });

  it('register says what the stream’s policy makes of the change', async () => {
    await registerContract(store, shop('registered'));
    const next = parseContract({ ...shop('registered'), version: 2, columns: [{ name: 'id', type: 'integer', primary_key: true }] });
    const out = bufferOut();
    expect(await runRegister(store, ['next.json'], [next], out)).toBe(0);
    expect(out.written.stdout).toContain('registry version 2); schema change: every policy: column removed');
  });
});
