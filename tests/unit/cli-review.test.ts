import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { approveRequest, type Decide, rejectRequest, runApprove, runReject } from '../../cli/commands/review.ts';
import { bufferOut } from '../../cli/io.ts';
import { UsageError } from '../../cli/usage.ts';
import type { OperatorRequest } from '../../lib/review/operator-decision.ts';
import type { Proposal } from '../../lib/review/proposal.ts';
import type { ReviewDeps } from '../../lib/review/review-deps.ts';
import type { ReviewDecision } from '../../lib/vault/review-decision.ts';

/** `approve` and `reject` as the CLI takes them: the request from the options, the preview and --yes, the outcomes' exit codes. */
const BATCH = 'orders-0123456789abcdef0123';
const CLUSTER = 'c-0123456789abcdef';
const deps = {} as ReviewDeps; // the decisions below are stubs: nothing reads the vault

const measured: Proposal = {
  name: 'operator:edit',
  source: 'x => x.trim()',
  reads: [],
  writes: [],
  origin: 'operator',
  gate: { accepted: true },
  cells: 4,
  passed: 3,
  pass_rate: 0.75,
  failures: { 'date:type': 1 },
  examples: [{ before: ' 2026-01-01', after: ['2026-01-01'], verdict: 'passes' }],
};
const decision: ReviewDecision = {
  schema_version: 1,
  batch: BATCH,
  stream: 'orders',
  cluster: CLUSTER,
  column: 'ordered_at',
  rule: 'type',
  action: 'edit',
  operator: 'alice',
  at: '2026-12-01T10:00:00.000Z',
  function: { name: 'operator:edit', source: 'x => x.trim()', reads: [], writes: [] },
  measured: { cells: 4, passed: 3, pass_rate: 0.75, failures: { 'date:type': 1 } },
  reason: '',
  candidate: null,
};

/** A decision stub that records each request and answers preview, then decided. */
function recording(): { decide: Decide; requests: OperatorRequest[] } {
  const requests: OperatorRequest[] = [];
  const decide: Decide = async (_deps, request) => {
    requests.push(request);
    if (request.action === 'edit' && !request.confirm) return { status: 'preview', measured };
    return { status: 'decided', decision, measured };
  };
  return { decide, requests };
}

describe('approveRequest and rejectRequest', () => {
  const env = { USER: 'alice' };
  it('takes exactly one of --candidate, --function, --function-file', () => {
    expect(() => approveRequest(BATCH, CLUSTER, {}, env)).toThrow(UsageError);
    expect(() => approveRequest(BATCH, CLUSTER, { candidate: 'a', functionFile: 'f' }, env)).toThrow(/exactly one of/);
    expect(approveRequest(BATCH, CLUSTER, { candidate: 'date:d-m-y' }, env)).toEqual({
      action: 'approve',
      batch: BATCH,
      cluster: CLUSTER,
      operator: 'alice',
      candidate: 'date:d-m-y',
    });
    const file = join(mkdtempSync(join(tmpdir(), 'vaultmend-fn-')), 'f.js');
    writeFileSync(file, 'x => x.trim()\n');
    expect(approveRequest(BATCH, CLUSTER, { functionFile: file, note: 'trim' }, env)).toMatchObject({
      action: 'edit',
      source: 'x => x.trim()',
      confirm: false,
      note: 'trim',
    });
    writeFileSync(file, '  \n');
    expect(() => approveRequest(BATCH, CLUSTER, { functionFile: file }, env)).toThrow(/the function is empty/);
  });

  it('names the operator from --as, VAULTMEND_OPERATOR, then USER, and refuses a name that is not one', () => {
    const request = (as: string | undefined, e: NodeJS.ProcessEnv) => approveRequest(BATCH, CLUSTER, { candidate: 'a', as }, e);
    expect(request('bob', { VAULTMEND_OPERATOR: 'carol', USER: 'dave' })).toMatchObject({ operator: 'bob' });
    expect(request(undefined, { VAULTMEND_OPERATOR: 'carol', USER: 'dave' })).toMatchObject({ operator: 'carol' });
    expect(request(undefined, { USER: 'dave' })).toMatchObject({ operator: 'dave' });
    expect(() => request(undefined, {})).toThrow(/name yourself with --as NAME/);
    expect(() => request(undefined, { USER: 'a b' })).toThrow(/"a b" \(USER\) is not an operator name/);
  });

  it('reject needs a reason', () => {
    expect(rejectRequest(BATCH, CLUSTER, { reason: ' wrong source ', as: 'alice' })).toEqual({
      action: 'reject',
      batch: BATCH,
      cluster: CLUSTER,
      operator: 'alice',
      reason: 'wrong source',
    });
    expect(() => rejectRequest(BATCH, CLUSTER, { reason: '', as: 'alice' })).toThrow(/--reason needs a text/);
    expect(() => rejectRequest(BATCH, CLUSTER, { reason: 'x'.repeat(2001), as: 'alice' })).toThrow(/at most 2000/);
  });
});

describe('approve and reject', () => {
  const edit: OperatorRequest = {
    action: 'edit',
    batch: BATCH,
    cluster: CLUSTER,
    operator: 'alice',
    source: 'x => x.trim()',
    confirm: false,
  };

  it('an edited function without --yes: measured only, exit 0, and says how to approve it', async () => {
    const { decide, requests } = recording();
    const out = bufferOut();
    expect(await runApprove(deps, edit, false, out, false, decide)).toBe(0);
    expect(requests).toEqual([edit]);
    expect(out.written.stdout).toContain('measured: operator:edit: 3/4 cells pass (75%); failing: date:type 1');
    expect(out.written.stderr).toBe('measured: 3/4 cells pass (75%); run again with --yes to approve\n');
  });

  it('with --yes: measured, then approved (confirm), exit 0', async () => {
    const { decide, requests } = recording();
    const out = bufferOut();
    expect(await runApprove(deps, edit, true, out, true, decide)).toBe(0);
    expect(requests.map((r) => r.action === 'edit' && r.confirm)).toEqual([false, true]);
    expect(JSON.parse(out.written.stdout)).toEqual({ status: 'decided', decision, measured });
    expect(out.written.stderr).toBe(`re-remediation follows: vaultmend status ${BATCH} --watch\n`);
  });

  it('refused and already-decided exit 1, with the reason or who decided when', async () => {
    const refused: Decide = async () => ({
      status: 'refused',
      reason: 'the gate refused the function: forbidden-identifier (process)',
      measured: null,
    });
    const out = bufferOut();
    expect(await runApprove(deps, edit, true, out, false, refused)).toBe(1);
    expect(out.written.stderr).toBe('refused: the gate refused the function: forbidden-identifier (process)\n');
    const taken: Decide = async () => ({ status: 'already-decided', decision });
    const again = bufferOut();
    const reject: OperatorRequest = { action: 'reject', batch: BATCH, cluster: CLUSTER, operator: 'bob', reason: 'no' };
    expect(await runReject(deps, reject, again, false, taken)).toBe(1);
    expect(again.written.stderr).toBe('already decided: edit operator:edit by alice at 2026-12-01T10:00:00.000Z\n');
    const json = bufferOut();
    expect(await runReject(deps, reject, json, true, taken)).toBe(1);
    expect(JSON.parse(json.written.stdout)).toEqual({ status: 'already-decided', decision });
  });
});
