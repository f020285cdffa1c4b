import type { RunEvent } from './run-event.ts';

/** A POST of a run event that did not get a 2xx answer in time. */
class LineagePostError extends Error {
  override readonly name = 'LineagePostError';
}

/**
 * POSTs one run event as JSON to an OpenLineage endpoint (e.g. Marquez's `/api/v1/lineage`),
 * within `timeoutMs` (AbortSignal.timeout), following no redirect (a redirect could lead out of
 * the perimeter the URL was checked against). A non-2xx answer, a timeout or a refused connection
 * is a LineagePostError.
 *
 * @example
 * await postRunEvent(new URL('http://127.0.0.1:5000/api/v1/lineage'), event, 5_000);
 */
export async function postRunEvent(endpoint: URL, event: RunEvent, timeoutMs: number): Promise<void> {
  let answer: Response;
  try {
    answer = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: unknown } | null)?.cause;
    const why =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : `${error instanceof Error ? error.message : String(error)}${cause instanceof Error ? ` (${cause.message})` : ''}`;
    throw new LineagePostError(`POST ${endpoint.origin}${endpoint.pathname}: ${why}`, { cause: error });
  }
  await answer.body?.cancel();
  if (!answer.ok) throw new LineagePostError(`POST ${endpoint.origin}${endpoint.pathname}: answered ${answer.status}`);
}
