import { IsolateRunner, type ChunkResults, type JsonChunk, type SandboxLimits, type SandboxMessage } from './isolate-runner.ts';

/**
 * The sandbox process: a child of the function that owns the isolate and answers one request
 * at a time over IPC (requests that arrive meanwhile wait their turn). If a hostile function
 * aborts it, only this process dies. Before each try of a request, and before each call into the
 * isolate, it tells the parent (`progress`, `call`), so that the parent's watchdog follows the
 * runner's own wall allowances instead of a fixed guess that a busy machine would overrun.
 */
interface ApplyRequest {
  id: number;
  source: string;
  chunks: JsonChunk[];
}

const limits = JSON.parse(process.env['VAULTMEND_SANDBOX_LIMITS'] ?? '{}') as Partial<SandboxLimits>;
const runner = new IsolateRunner(limits);
const send = (message: SandboxMessage): void => {
  process.send?.(message);
};

let queue: Promise<void> = Promise.resolve();
process.on('message', (request: ApplyRequest) => {
  queue = queue.then(async () => {
    let result: ChunkResults;
    try {
      result = await runner.applyChunks(request.source, request.chunks, {
        onTry: (progress) => send({ id: request.id, progress }),
        onCall: (call) => send({ id: request.id, call }),
      });
    } catch (error) {
      result = { stopped: true, limit: 'sandbox-error', message: (error instanceof Error ? error.message : String(error)).slice(0, 300) };
    }
    send({ id: request.id, result });
  });
});
// The parent is gone (or let go of us): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
