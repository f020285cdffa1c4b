import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { trustedCas } from '../tls.ts';

export interface S3Settings {
  S3_ENDPOINT: string;
  S3_REGION: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  /** Sockets per store host (lib/config.ts S3_MAX_SOCKETS); more requests wait in the agent's queue. */
  S3_MAX_SOCKETS?: number;
  /** A PEM CA bundle the https agent trusts besides the default roots (lib/config.ts S3_CA_FILE); read once, here. */
  S3_CA_FILE?: string;
}

/** The socket pool's size when the caller does not say (the functions read S3_MAX_SOCKETS). */
export const DEFAULT_S3_MAX_SOCKETS = 32;

/**
 * The S3 client's time limits, in milliseconds. The SDK's handler starts both its connection and
 * its request clocks when a request is handed to it, so the wait for a free socket of the pool
 * counts: they are generous enough for a long agent queue, yet finite, so a request on a dead
 * connection fails (and is retried by the SDK) instead of hanging the function until its timeout.
 */
export const S3_TIMEOUTS = {
  /** A free socket from the pool, or a new connection established. */
  connectionTimeout: 60_000,
  /** The request sent and the response's headers received (a download's body is bounded by socketTimeout). */
  requestTimeout: 120_000,
  /** No byte in either direction on an active socket for this long. */
  socketTimeout: 60_000,
  /** A pooled socket unused for this long is closed, before the store's own idle timeout (RGW 65 s, MinIO 30 s) closes it under a request. */
  idleSocketTimeout: 15_000,
} as const;

/**
 * The one request handler of an S3 client: keep-alive agents with a bounded pool. Passing agent
 * instances (not options) also keeps the SDK from giving each `Expect: 100-continue` upload an
 * agent of its own without a socket limit.
 */
export function s3RequestHandler(maxSockets = DEFAULT_S3_MAX_SOCKETS, ca?: string[]): NodeHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets, timeout: S3_TIMEOUTS.idleSocketTimeout };
  return new NodeHttpHandler({
    httpAgent: new HttpAgent(agentOptions),
    // With `ca`, exactly those CAs are trusted (trustedCas lists the default roots too); verification stays on.
    httpsAgent: new HttpsAgent(ca ? { ...agentOptions, ca } : agentOptions),
    connectionTimeout: S3_TIMEOUTS.connectionTimeout,
    requestTimeout: S3_TIMEOUTS.requestTimeout,
    throwOnRequestTimeout: true,
    socketTimeout: S3_TIMEOUTS.socketTimeout,
  });
}

/**
 * One way to build the S3 client for every caller. S3-compatible servers (Ceph RGW Pacific)
 * do not understand the SDK's default flexible checksums, so checksums are sent and checked
 * only where the API requires them. Requests beyond the pool's sockets queue in the agent.
 */
export function makeS3Client(settings: S3Settings): S3Client {
  const ca = settings.S3_CA_FILE ? trustedCas(settings.S3_CA_FILE, 'S3_CA_FILE') : undefined;
  const requestHandler = s3RequestHandler(settings.S3_MAX_SOCKETS, ca);
  if (settings.S3_ENDPOINT === 'aws') return new S3Client({ region: settings.S3_REGION, requestHandler });
  return new S3Client({
    endpoint: settings.S3_ENDPOINT,
    region: settings.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.S3_ACCESS_KEY_ID, secretAccessKey: settings.S3_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler,
  });
}
