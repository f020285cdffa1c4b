import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { checkFunction } from '../../lib/remediate/check-function.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';

/** Adds `gate [--apply VALUE]`: functions on stdin, one JSON verdict per line on stdout (always JSON: it is a filter). */
export function gateCommand(program: Command): void {
  program
    .command('gate')
    .description('check transformation functions, one per line on stdin; prints one JSON verdict per line')
    .option('--apply <value>', 'also run each accepted function on this value in the sandbox')
    .action(async (options: { apply?: string }) => {
      const sandbox = new Sandbox();
      try {
        for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
          if (line.trim() === '') continue;
          process.stdout.write(`${JSON.stringify(await checkFunction(line, sandbox, options.apply))}\n`);
        }
      } finally {
        sandbox.dispose();
      }
    });
}
