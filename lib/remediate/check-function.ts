import type { Contract } from '../contract/contract.ts';
import { gateFunction, type GateReason } from './lambda-gate.ts';
import type { Output, Sandbox, SandboxLimit } from './sandbox.ts';

/**
 * An operator's by-hand check of one function: the gate's verdict and, when asked, what the
 * accepted function makes of one value in the sandbox (or the limit that stopped it).
 */
export interface FunctionCheck {
  accepted: boolean;
  reason: GateReason | WriteRefusal['reason'] | 'ok';
  detail?: string;
  output?: Output;
  /** Set when applying the function failed: a sandbox limit, or the error it threw on the value. */
  stopped?: SandboxLimit | 'threw';
  error?: string;
}

/** Why a function may not write the columns it names, whatever its source text. */
export interface WriteRefusal {
  reason: 'writes-primary-key';
  detail: string;
}

/**
 * A function that writes a primary-key column is refused: a key is identity, not data to
 * repair (a key with a format error goes to review, never changed). `writes` are the columns
 * the function writes: the cluster's own column first.
 */
export function refuseWrites(contract: Contract, writes: readonly string[]): WriteRefusal | undefined {
  const keys = new Set(contract.columns.filter((c) => c.primary_key).map((c) => c.name.toLowerCase()));
  const key = writes.find((name) => keys.has(name.toLowerCase()));
  return key === undefined
    ? undefined
    : { reason: 'writes-primary-key', detail: `${key} is the primary key: identity, not data to repair` };
}

/** The contract and the columns a checked function would write (the cluster's column first). */
export interface CheckTarget {
  contract: Contract;
  writes: string[];
}

/** Gates `source`, refuses it when `target` names a primary-key column, and runs it on `applyTo` when given. */
export async function checkFunction(source: string, sandbox: Sandbox, applyTo?: string, target?: CheckTarget): Promise<FunctionCheck> {
  const verdict = gateFunction(source);
  if (!verdict.accepted) return { accepted: false, reason: verdict.reason, detail: verdict.detail };
  const refused = target && refuseWrites(target.contract, target.writes);
  if (refused) return { accepted: false, reason: refused.reason, detail: refused.detail };
  if (applyTo === undefined) return { accepted: true, reason: 'ok' };
  const result = await sandbox.apply(verdict.source, [applyTo]);
  if (result.stopped) return { accepted: true, reason: 'ok', stopped: result.limit, error: result.message };
  const failure = result.errors[0];
  if (failure) return { accepted: true, reason: 'ok', stopped: 'threw', error: failure[1] };
  return { accepted: true, reason: 'ok', output: result.outputs[0] ?? null };
}
