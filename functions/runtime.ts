import { Logger } from '@aws-lambda-powertools/logger';
import { loadRuntimeConfig, type RuntimeConfig } from '../lib/config.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { S3ObjectStore } from '../lib/store/s3-object-store.ts';

/**
 * What every handler shares, built once per Lambda container (module scope) and reused
 * across invocations: validated configuration, the structured logger and the vault store.
 */
export const config: RuntimeConfig = loadRuntimeConfig();
export const logger = new Logger({ serviceName: 'vaultmend', logLevel: config.LOG_LEVEL });
export const vault = new S3ObjectStore(makeS3Client(config), config.VAULT_BUCKET);
