import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../lib/errors.ts';

/** What the bridge needs to know of a function: how many invocations may run at once, and its timeout. */
export interface FunctionLimits {
  reservedConcurrency: number;
  timeoutS: number;
}

/** The Serverless Framework's default function timeout, when neither the function nor the provider sets one. */
const SERVERLESS_DEFAULT_TIMEOUT_S = 6;

const count = z.coerce.number().int().min(1);
const ServerlessYml = z.object({
  provider: z.object({ timeout: count.optional() }).optional(),
  functions: z.record(z.string(), z.object({ reservedConcurrency: count.optional(), timeout: count.optional() })),
});

/**
 * Reads `reservedConcurrency` and the timeout (the function's, else `provider.timeout`) of each
 * of `functions` from serverless.yml. A routed function missing there, or without a
 * reservedConcurrency, is a ConfigError: the bridge would otherwise run it unbounded.
 */
export function readFunctionLimits(file: string, functions: readonly string[]): Map<string, FunctionLimits> {
  const parsed = ServerlessYml.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new ConfigError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const limits = new Map<string, FunctionLimits>();
  for (const fn of functions) {
    const def = parsed.data.functions[fn];
    if (def?.reservedConcurrency === undefined) throw new ConfigError(`${file}: functions.${fn}.reservedConcurrency is required`);
    limits.set(fn, {
      reservedConcurrency: def.reservedConcurrency,
      timeoutS: def.timeout ?? parsed.data.provider?.timeout ?? SERVERLESS_DEFAULT_TIMEOUT_S,
    });
  }
  return limits;
}
