import { gateFunction, type GateReason } from './lambda-gate.ts';
import type { Output, Sandbox, SandboxLimit } from './sandbox.ts';

/**
 * An operator's by-hand check of one function: the gate's verdict and, when asked, what the
 * accepted function makes of one value in the sandbox (or the limit that stopped it).
 */
export interface FunctionCheck {
  accepted: boolean;
  reason: GateReason | 'ok';
  detail?: string;
  output?: Output;
  /** Set when applying the function failed: a sandbox limit, or the error it threw on the value. */
  stopped?: SandboxLimit | 'threw';
  error?: string;
}

export async function checkFunction(source: string, sandbox: Sandbox, applyTo?: string): Promise<FunctionCheck> {
  const verdict = gateFunction(source);
  if (!verdict.accepted) return { accepted: false, reason: verdict.reason, detail: verdict.detail };
  if (applyTo === undefined) return { accepted: true, reason: 'ok' };
  const result = await sandbox.apply(verdict.source, [applyTo]);
  if (result.stopped) return { accepted: true, reason: 'ok', stopped: result.limit, error: result.message };
  const failure = result.errors[0];
  if (failure) return { accepted: true, reason: 'ok', stopped: 'threw', error: failure[1] };
  return { accepted: true, reason: 'ok', output: result.outputs[0] ?? null };
}
