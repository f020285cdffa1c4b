import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { loadRuntimeConfig } from '../lib/config.ts';
import { registerContract } from '../lib/contract/registry.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { S3ObjectStore } from '../lib/store/s3-object-store.ts';
import { resumeStream } from '../lib/streams/resume-stream.ts';
import { streamState } from '../lib/streams/stream-control.ts';
import { keys } from '../lib/keys.ts';
import { createInterface } from 'node:readline';
import { checkFunction } from '../lib/remediate/check-function.ts';
import { Sandbox } from '../lib/remediate/sandbox.ts';

/** The operators' tool. Configuration comes from the same variables as the functions. */
function vault(): S3ObjectStore {
  const config = loadRuntimeConfig();
  return new S3ObjectStore(makeS3Client(config), config.VAULT_BUCKET);
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

const program = new Command('vaultmend').description('vaultmend operator commands').showHelpAfterError();

const contracts = program.command('contracts').description('the schema registry in the vault');
contracts
  .command('register')
  .argument('<files...>', 'contract JSON files')
  .description('validate contracts and register them into the vault (contracts/<stream>.json)')
  .action(async (files: string[]) => {
    for (const file of files) {
      const registered = await registerContract(vault(), JSON.parse(readFileSync(file, 'utf8')));
      print({ stream: registered.contract.stream, version: registered.contract.version, fingerprint: registered.fingerprint });
    }
  });

const stream = program.command('stream').description('stream control: halt state and waiting files');
stream
  .command('status')
  .argument('<stream>')
  .action(async (name: string) => {
    const store = vault();
    print({ ...(await streamState(store, name)), waiting: (await store.list(keys.waitingPrefix(name))).length });
  });
stream
  .command('resume')
  .argument('<stream>')
  .description('set a halted stream running and replay the files that waited')
  .action(async (name: string) => {
    print(await resumeStream(vault(), name));
  });

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

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
