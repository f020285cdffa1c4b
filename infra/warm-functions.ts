import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFunctionLimits } from './bridge/function-limits.ts';
import { lambdaInvoker } from './bridge/invoke.ts';

/** The functions a notification starts: the ones whose first invocation would otherwise wait for their modules. */
const S3_FUNCTIONS = ['ingest', 'cluster', 'remediate', 'reconcile'] as const;

/**
 * Loads every S3-triggered function right after the stack is up, as many containers of each as its
 * reservedConcurrency lets run at once (serverless.yml), so that the first file a source system
 * drops does not wait for the module loads (through tsx, 1–3 s each here) or, in remediate, for the
 * sandbox process, which each container starts at its init.
 * The event is an upload record of another bucket, which each handler logs as not the vault's and
 * skips: nothing is read or written. A warm-up that fails is reported and changes nothing else.
 * On AWS the same is provisioned concurrency; the artifacts' own init is ~0.25 s (bench:coldstart).
 *
 * @example
 * await warmFunctions({ repo, port: 3002, region: 'us-east-1', prefix: 'vaultmend-local' }, console.log);
 */
export async function warmFunctions(
  target: { repo: string; port: number; region: string; prefix: string },
  log: (line: string) => void,
): Promise<void> {
  const event = JSON.parse(readFileSync(join(target.repo, 'events/ingest-aws.json'), 'utf8'));
  event.Records[0].s3.bucket.name = 'vaultmend-warm-up';
  event.Records[0].s3.bucket.arn = 'arn:aws:s3:::vaultmend-warm-up';
  const { invoke, close } = lambdaInvoker(target.port, target.region);
  const stop = new AbortController();
  try {
    const limits = readFunctionLimits(join(target.repo, 'serverless.yml'), S3_FUNCTIONS);
    const outcomes = await Promise.all(
      S3_FUNCTIONS.map(async (fn) => {
        const containers = limits.get(fn)!.reservedConcurrency;
        const runs = await Promise.all(
          Array.from({ length: containers }, () => invoke(`${target.prefix}-${fn}`, event, 120_000, stop.signal)),
        );
        return [fn, runs] as const;
      }),
    );
    const said = outcomes.map(([fn, runs]) => {
      const ok = runs.filter((o) => o.kind === 'succeeded');
      const slowest = Math.max(0, ...ok.map((o) => (o.kind === 'succeeded' ? o.durationMs : 0)));
      return `${fn} ${ok.length}/${runs.length} (${slowest} ms)`;
    });
    log(`functions warmed: ${said.join(', ')}`);
  } finally {
    close();
  }
}
