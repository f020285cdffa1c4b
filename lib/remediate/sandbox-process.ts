import { IsolateRunner, type JsonChunk, type SandboxLimits } from './isolate-runner.ts';

/**
 * The sandbox process: a child of the function that owns the isolate and answers one request
 * at a time over IPC. If a hostile function aborts it, only this process dies.
 */
interface ApplyRequest {
  id: number;
  source: string;
  chunks: JsonChunk[];
}

const limits = JSON.parse(process.env['VAULTMEND_SANDBOX_LIMITS'] ?? '{}') as Partial<SandboxLimits>;
const runner = new IsolateRunner(limits);

process.on('message', (request: ApplyRequest) => {
  const result = runner.applyChunks(request.source, request.chunks);
  process.send?.({ id: request.id, result });
});
// The parent is gone (or let go of us): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
