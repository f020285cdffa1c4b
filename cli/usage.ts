import { InvalidArgumentError } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { ContractInvalidError } from '../lib/contract/registry.ts';
import { ConfigError, UnsafeKeyError } from '../lib/errors.ts';
import { parseRawKey, streamOfBatch } from '../lib/keys.ts';
import { OperatorName } from '../lib/vault/review-decision.ts';
import { explainStoreError, type StoreTarget } from './stack-target.ts';

/** Exit codes of the operators' tools: 0 done, 1 the work failed, 2 the command line was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The command line is wrong (a missing file, a malformed name, a missing option): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A stream name as a command-line argument (commander argParser): refused with the rule it breaks. */
export function streamArgument(name: string): string {
  try {
    parseRawKey(`raw/${name}/file`);
  } catch {
    throw new InvalidArgumentError(
      `${JSON.stringify(name)} is not a stream name (lowercase letters, digits, - and _, at most 63, starting with a letter or digit)`,
    );
  }
  return name;
}

/** A batch id as a command-line argument (commander argParser). */
export function batchArgument(batch: string): string {
  try {
    streamOfBatch(batch);
  } catch {
    throw new InvalidArgumentError(`${JSON.stringify(batch)} is not a batch id (<stream>-<20 hex digits>, as the manifests name it)`);
  }
  return batch;
}

/** A pattern signature of the registry: 24 hex digits (commander argParser). */
export function signatureArgument(text: string): string {
  if (!/^[0-9a-f]{24}$/.test(text))
    throw new InvalidArgumentError(
      `${JSON.stringify(text)} is not a pattern signature (24 hex digits, as \`vaultmend registry list\` prints them)`,
    );
  return text;
}

/** A whole number of seconds, at least 1 (commander argParser). */
export function secondsArgument(text: string): number {
  if (!/^[1-9][0-9]*$/.test(text)) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a whole number of seconds`);
  return Number(text);
}

/** A cluster id as the cluster manifest names it: `c-` and 16 hex digits (commander argParser). */
export function clusterArgument(text: string): string {
  if (!/^c-[0-9a-f]{16}$/.test(text))
    throw new InvalidArgumentError(
      `${JSON.stringify(text)} is not a cluster id (c-<16 hex digits>, as \`vaultmend review BATCH\` lists them)`,
    );
  return text;
}

/** A positive number of seconds, fractions allowed (`0.5`; commander argParser). */
export function intervalArgument(text: string): number {
  const seconds = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0)) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a positive number of seconds`);
  return seconds;
}

/** Refuses a path that is not an existing file (exit 2), naming the option or argument it came from. */
export function existingFile(path: string, what = 'file'): string {
  if (!existsSync(path)) throw new UsageError(`no such ${what}: ${path}`);
  if (!statSync(path).isFile()) throw new UsageError(`not a file: ${path}`);
  return path;
}

/**
 * Who decides, as recorded in the decision: `--as`, else VAULTMEND_OPERATOR, else USER; checked
 * against OperatorName (letters, digits and ._@-, at most 64), a usage error otherwise.
 */
export function operatorName(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const name = given ?? (env['VAULTMEND_OPERATOR'] || env['USER'] || undefined);
  if (name === undefined) throw new UsageError('who decides? name yourself with --as NAME (or set VAULTMEND_OPERATOR)');
  const checked = OperatorName.safeParse(name);
  if (!checked.success) {
    const from = given !== undefined ? '--as' : env['VAULTMEND_OPERATOR'] ? 'VAULTMEND_OPERATOR' : 'USER';
    throw new UsageError(
      `${JSON.stringify(name)} (${from}) is not an operator name: letters, digits and ._@- (at most 64); give --as NAME`,
    );
  }
  return checked.data;
}

/**
 * What to print and which code to exit with for an error that ended a command: usage errors
 * exit 2; a store that cannot be reached, an invalid contract or configuration exit 1 with a
 * message that says what to do; anything else exits 1 with its message.
 */
export function failure(error: unknown, target?: StoreTarget): { message: string; code: number } {
  if (error instanceof UsageError) return { message: error.message, code: EXIT.usage };
  if (error instanceof UnsafeKeyError) return { message: error.message, code: EXIT.usage };
  const explained = target ? explainStoreError(error, target) : undefined;
  if (explained) return { message: explained, code: EXIT.failed };
  if (error instanceof ContractInvalidError || error instanceof ConfigError) return { message: error.message, code: EXIT.failed };
  return { message: error instanceof Error ? error.message : String(error), code: EXIT.failed };
}
