import type { S3Client } from '@aws-sdk/client-s3';
import { loadRuntimeConfig, type RuntimeConfig } from '../lib/config.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { S3ObjectStore, storeEncryption } from '../lib/store/s3-object-store.ts';
import { findStore, type StoreTarget } from './stack-target.ts';

/**
 * What the commands need from the environment, found lazily (a command refused for its
 * arguments never looks for a store): the runtime configuration (the same variables as the
 * functions), the S3 client and the vault. The store is S3_ENDPOINT when given, else the
 * running stack found by its state file (see stack-target.ts).
 */
export interface CliContext {
  config(): RuntimeConfig;
  s3(): S3Client;
  vault(): S3ObjectStore;
  /** The store target once it was looked for (errors that come from not reaching it are explained with it). */
  target(): StoreTarget | undefined;
}

/** The context of one CLI run (each part made once, on first use). */
export function cliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  let target: StoreTarget | undefined;
  let settings: RuntimeConfig | undefined;
  let client: S3Client | undefined;
  const config = (): RuntimeConfig => {
    target ??= findStore(env);
    settings ??= loadRuntimeConfig(target.env);
    return settings;
  };
  const s3 = (): S3Client => (client ??= makeS3Client(config()));
  return {
    config,
    s3,
    vault: () => new S3ObjectStore(s3(), config().VAULT_BUCKET, storeEncryption(config())),
    target: () => target,
  };
}

/** The engine's limits from the configuration, as the steps take them. */
export const engineOf = (settings: RuntimeConfig): { memoryLimit: string; threads: number } => ({
  memoryLimit: settings.ENGINE_MEMORY_LIMIT,
  threads: settings.ENGINE_THREADS,
});

/** Sets the exit code of the run (a command returns it; the process ends when its work is done). */
export function exitWith(code: number): void {
  process.exitCode = code;
}
