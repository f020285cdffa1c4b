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
import { VaultKeyStore } from '../lib/audit/data-keys.ts';
import { eraseRecords, recordOf } from '../lib/audit/erase-records.ts';
import { verifyBatchAudit } from '../lib/audit/verify-batch-audit.ts';
import { loadContract } from '../lib/contract/registry.ts';
import { rollbackBatch } from '../lib/reconcile/rollback.ts';
import { stuckBatches } from '../lib/reconcile/stuck-batches.ts';
import { WebhookAlertSink } from '../lib/alerts/alerts.ts';

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
  .option('--accept', 'let the batch that tripped the failing-share breaker through on its replay')
  .description('set a halted stream running and replay the files that waited')
  .action(async (name: string, options: { accept?: boolean }) => {
    print(await resumeStream(vault(), name, new Date(), { accept: options.accept === true }));
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

const audit = program.command('audit').description('the write-once audit log of each batch');
audit
  .command('verify')
  .argument('<batch>')
  .option('--file <path>', 'verify this copy of the log instead of the stored one (the retention is still read from the store)')
  .description('recompute the hash chain against the manifest root and check the Object Lock retention; exit 1 on any gap or edit')
  .action(async (batch: string, options: { file?: string }) => {
    const verdict = await verifyBatchAudit(vault(), batch, options.file ? readFileSync(options.file, 'utf8') : undefined);
    print(verdict);
    if (!verdict.ok) process.exitCode = 1;
  });

program
  .command('erase')
  .argument('<stream>')
  .option('--pk <values...>', 'the primary key value(s) of the person or record')
  .option('--record <hashes...>', 'records named by their primary-key hash instead')
  .description("right to erasure: destroy the records' data keys; their values in the locked audit can no longer be read")
  .action(async (streamName: string, options: { pk?: string[]; record?: string[] }) => {
    const store = vault();
    const records = [...(options.record ?? [])];
    if (options.pk) {
      const registered = await loadContract(store, streamName);
      if (!registered) throw new Error(`no contract for stream ${streamName}`);
      records.push(recordOf(registered.contract, options.pk));
    }
    if (records.length === 0) throw new Error('name the record: --pk VALUE... or --record HASH...');
    print(await eraseRecords(new VaultKeyStore(store), streamName, records));
  });

program
  .command('rollback')
  .argument('<batch>')
  .description("undo a batch's fixes from its audit: rollback/<stream>/<batch>.parquet holds its rows as they were before remediation")
  .action(async (batch: string) => {
    const config = loadRuntimeConfig();
    const store = vault();
    print(await rollbackBatch({ store, keys: new VaultKeyStore(store), workDir: config.WORK_DIR, engine: { memoryLimit: config.ENGINE_MEMORY_LIMIT, threads: config.ENGINE_THREADS } }, batch));
  });

program
  .command('stuck')
  .option('--after <seconds>', 'waiting longer than this (default RECONCILE_STUCK_AFTER_S)')
  .option('--alert', 'also post a SEV2 alert per stuck batch to ALERT_WEBHOOK_URL (run it on a schedule)')
  .description('batches whose cluster results have not all arrived, with the missing clusters')
  .action(async (options: { after?: string; alert?: boolean }) => {
    const config = loadRuntimeConfig();
    const stuck = await stuckBatches(vault(), options.after ? Number(options.after) : config.RECONCILE_STUCK_AFTER_S);
    print(stuck);
    if (options.alert && config.ALERT_WEBHOOK_URL) {
      const sink = new WebhookAlertSink(config.ALERT_WEBHOOK_URL, (message) => process.stderr.write(`${message}\n`));
      for (const b of stuck) {
        await sink.post({
          severity: 'SEV2', component: 'reconcile', stream: b.stream, batch: b.batch, reason: 'batch-stuck',
          summary: `batch ${b.batch} has waited ${b.waiting_seconds} s for ${b.missing.length} cluster result(s); replay those cluster objects`,
          details: { missing: b.missing, clustered_at: b.clustered_at },
        });
      }
    }
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
