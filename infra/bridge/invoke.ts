import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { safeErrorMessage } from '../../lib/errors.ts';

/**
 * How one invocation ended: the handler returned (`succeeded`); it threw, timed out, or the
 * endpoint failed while it ran (`failed`: counts as an attempt); nothing could connect, so it
 * never ran (`unreachable`: serverless-offline is down or restarting); or the bridge is closing (`aborted`).
 */
export type InvocationOutcome =
  | { kind: 'succeeded'; status: number; durationMs: number }
  | { kind: 'failed'; status?: number; error: string; durationMs: number }
  | { kind: 'unreachable'; error: string }
  | { kind: 'aborted' };

/** Invokes a function by its deployed name with `event`, waiting at most `timeoutMs`; `shutdown` abandons it. */
export type Invoke = (functionName: string, event: unknown, timeoutMs: number, shutdown: AbortSignal) => Promise<InvocationOutcome>;

/** The error message of a handler that threw, as serverless-offline reports it: `{errorMessage, errorType, trace}` (the trace is left out). */
function functionErrorMessage(kind: string, payload: Uint8Array | undefined): string {
  let body: { errorMessage?: unknown; errorType?: unknown } = {};
  try {
    body = JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as typeof body;
  } catch {
    // An error payload that is not JSON: the kind alone.
  }
  const error = Object.assign(new Error(String(body.errorMessage ?? '(no message)')), { name: String(body.errorType ?? 'Error') });
  return `${kind}: ${safeErrorMessage(error)}`;
}

/** Whether `error` is a refused connection: the request never reached the endpoint. */
function refused(error: unknown): boolean {
  const codes = [error, (error as { cause?: unknown })?.cause, ...((error as { errors?: unknown[] })?.errors ?? [])].map(
    (e) => (e as { code?: unknown } | undefined)?.code,
  );
  return codes.includes('ECONNREFUSED');
}

/**
 * Invokes functions through serverless-offline's Lambda endpoint with InvocationType
 * RequestResponse, so the bridge knows when an invocation ended and whether it failed:
 * serverless-offline answers a handler that threw (or ran past its timeout) with status 200 and
 * `X-Amz-Function-Error: Unhandled`, which the SDK returns as `FunctionError`. One connection per
 * invocation (no keep-alive: a reused socket the server has just closed would fail an invocation
 * that never ran) and no SDK retries: the bridge's queue retries.
 */
export function lambdaInvoker(port: number, region: string): { invoke: Invoke; close(): void } {
  const client = new LambdaClient({
    endpoint: `http://127.0.0.1:${port}`,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: false }) }),
  });
  const invoke: Invoke = async (functionName, event, timeoutMs, shutdown) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const started = performance.now();
    const durationMs = () => Math.round(performance.now() - started);
    try {
      const out = await client.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) }),
        { abortSignal: AbortSignal.any([shutdown, timeout]) },
      );
      const status = out.StatusCode ?? 200;
      if (out.FunctionError)
        return { kind: 'failed', status, error: functionErrorMessage(out.FunctionError, out.Payload), durationMs: durationMs() };
      return { kind: 'succeeded', status, durationMs: durationMs() };
    } catch (error) {
      if (shutdown.aborted) return { kind: 'aborted' };
      if (timeout.aborted) {
        return {
          kind: 'failed',
          error: `no answer within ${timeoutMs / 1000} s (the function's timeout and a grace)`,
          durationMs: durationMs(),
        };
      }
      if (refused(error)) return { kind: 'unreachable', error: safeErrorMessage(error) };
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      return { kind: 'failed', ...(status ? { status } : {}), error: safeErrorMessage(error), durationMs: durationMs() };
    }
  };
  return { invoke, close: () => client.destroy() };
}
