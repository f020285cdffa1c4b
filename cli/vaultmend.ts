import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { WebhookAlertSink } from '../lib/alerts/alerts.ts';
import { VaultKeyStore } from '../lib/audit/data-keys.ts';
import { eraseRecords, recordOf } from '../lib/audit/erase-records.ts';
import { verifyBatchAudit } from '../lib/audit/verify-batch-audit.ts';
import { loadRuntimeConfig, type RuntimeConfig } from '../lib/config.ts';
import type { Contract } from '../lib/contract/contract.ts';
import { ContractInvalidError, loadContract, parseContractText, registerContract } from '../lib/contract/registry.ts';
import { keys, parseRawKey } from '../lib/keys.ts';
import { replayBatch } from '../lib/replay/replay-batch.ts';
import { batchStatus } from '../lib/operators/batch-status.ts';
import { findRegistered, listRegistered, removeRegistered } from '../lib/remediate/function-registry.ts';
import { rollbackBatch } from '../lib/reconcile/rollback.ts';
import { stuckBatches } from '../lib/reconcile/stuck-batches.ts';
import { checkFunction } from '../lib/remediate/check-function.ts';
import { Sandbox } from '../lib/remediate/sandbox.ts';
import { makeS3Client } from '../lib/store/s3-client.ts';
import { S3ObjectStore } from '../lib/store/s3-object-store.ts';
import { resumeStream } from '../lib/streams/resume-stream.ts';
import { streamState } from '../lib/streams/stream-control.ts';
import { findStore, type StoreTarget } from './stack-target.ts';
import { batchArgument, EXIT, failure, secondsArgument, signatureArgument, streamArgument, UsageError } from './usage.ts';

/**
 * The operators' tool. Configuration comes from the same variables as the functions; the store
 * is S3_ENDPOINT when given, else the running stack found by its state file (see stack-target.ts).
 * Exit codes: 0 done, 1 the work failed, 2 the command line was wrong.
 */
let target: StoreTarget | undefined;

function config(): RuntimeConfig {
  target ??= findStore();
  return loadRuntimeConfig(target.env);
}

function vault(): S3ObjectStore {
  const settings = config();
  return new S3ObjectStore(makeS3Client(settings), settings.VAULT_BUCKET);
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** Reads and validates every contract file first: a file that is missing is a usage error, one that is invalid names itself. */
function readContracts(files: string[]): Contract[] {
  for (const file of files) {
    if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
    if (!statSync(file).isFile()) throw new UsageError(`not a file: ${file}`);
  }
  const contracts: Contract[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      contracts.push(parseContractText(readFileSync(file, 'utf8'), file));
    } catch (error) {
      if (!(error instanceof ContractInvalidError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length) throw new ContractInvalidError(`${problems.join('\n')}\nnothing was registered`);
  return contracts;
}

const program = new Command('vaultmend')
  .description('vaultmend operator commands (the store: S3_ENDPOINT, or the running stack found in STACK_DIR)')
  .showHelpAfterError()
  .exitOverride();
const contracts = program.command('contracts').description('the schema registry in the vault');
contracts
  .command('register')
  .argument('<files...>', 'contract JSON files')
  .description('validate contracts and register them into the vault (contracts/<stream>.json)')
  .action(async (files: string[]) => {
    const parsed = readContracts(files);
    const store = vault();
    for (const [i, contract] of parsed.entries()) {
      const registered = await registerContract(store, contract, new Date(), files[i]);
      print({
        file: files[i],
        stream: registered.contract.stream,
        version: registered.contract.version,
        fingerprint: registered.fingerprint,
      });
    }
  });

const stream = program.command('stream').description('stream control: halt state and waiting files');
stream
  .command('status')
  .argument('<stream>', 'the stream name', streamArgument)
  .description('running or halted (and why), and how many files wait')
  .action(async (name: string) => {
    const store = vault();
    print({ ...(await streamState(store, name)), waiting: (await store.list(keys.waitingPrefix(name))).length });
  });
stream
  .command('resume')
  .argument('<stream>', 'the stream name', streamArgument)
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
  .argument('<batch>', 'the batch id', batchArgument)
  .option('--file <path>', 'verify this copy of the log instead of the stored one (the retention is still read from the store)')
  .description('recompute the hash chain against the manifest root and check the Object Lock retention; exit 1 on any gap or edit')
  .action(async (batch: string, options: { file?: string }) => {
    if (options.file && !existsSync(options.file)) throw new UsageError(`no such file: ${options.file}`);
    const verdict = await verifyBatchAudit(vault(), batch, options.file ? readFileSync(options.file, 'utf8') : undefined);
    print(verdict);
    if (!verdict.ok) process.exitCode = EXIT.failed;
  });

program
  .command('erase')
  .argument('<stream>', 'the stream name', streamArgument)
  .option('--pk <values...>', 'the primary key value(s) of the person or record')
  .option('--record <hashes...>', 'records named by their primary-key hash instead')
  .description("right to erasure: destroy the records' data keys; their values in the locked audit can no longer be read")
  .action(async (streamName: string, options: { pk?: string[]; record?: string[] }) => {
    if (!options.pk?.length && !options.record?.length) throw new UsageError('name the record: --pk VALUE... or --record HASH...');
    for (const hash of options.record ?? []) {
      if (!/^[0-9a-f]{64}$/.test(hash))
        throw new UsageError(`--record ${JSON.stringify(hash)} is not a primary-key hash (64 lowercase hex digits)`);
    }
    const store = vault();
    const records = [...(options.record ?? [])];
    if (options.pk) {
      const registered = await loadContract(store, streamName);
      if (!registered)
        throw new Error(
          `no contract is registered for stream ${streamName} (contracts/${streamName}.json): --pk needs it to hash the key; register it with \`npm run vaultmend -- contracts register FILE\`, or name the records with --record`,
        );
      records.push(recordOf(registered.contract, options.pk));
    }
    print(await eraseRecords(new VaultKeyStore(store), streamName, records));
  });

program
  .command('rollback')
  .argument('<batch>', 'the batch id', batchArgument)
  .description("undo a batch's fixes from its audit: rollback/<stream>/<batch>.parquet holds its rows as they were before remediation")
  .action(async (batch: string) => {
    const settings = config();
    const store = vault();
    print(
      await rollbackBatch(
        {
          store,
          keys: new VaultKeyStore(store),
          workDir: settings.WORK_DIR,
          engine: { memoryLimit: settings.ENGINE_MEMORY_LIMIT, threads: settings.ENGINE_THREADS },
        },
        batch,
      ),
    );
  });

program
  .command('stuck')
  .option('--after <seconds>', 'waiting longer than this (default RECONCILE_STUCK_AFTER_S)', secondsArgument)
  .option('--alert', 'also post a SEV2 alert per stuck batch to ALERT_WEBHOOK_URL (run it on a schedule)')
  .description('batches whose cluster results have not all arrived, with the missing clusters')
  .action(async (options: { after?: number; alert?: boolean }) => {
    const settings = config();
    if (options.alert && !settings.ALERT_WEBHOOK_URL) throw new UsageError('--alert needs ALERT_WEBHOOK_URL (where the alerts are posted)');
    const stuck = await stuckBatches(vault(), options.after ?? settings.RECONCILE_STUCK_AFTER_S);
    print(stuck);
    if (options.alert && settings.ALERT_WEBHOOK_URL) {
      const sink = new WebhookAlertSink(settings.ALERT_WEBHOOK_URL, (message) => process.stderr.write(`${message}\n`));
      for (const b of stuck) {
        await sink.post({
          severity: 'SEV2',
          component: 'reconcile',
          stream: b.stream,
          batch: b.batch,
          reason: 'batch-stuck',
          summary: `batch ${b.batch} has waited ${b.waiting_seconds} s for ${b.missing.length} cluster result(s); replay those cluster objects`,
          details: { missing: b.missing, clustered_at: b.clustered_at },
        });
      }
    }
  });

program
  .command('replay')
  .argument('<batch-or-key>', 'a batch id, or a raw object key (raw/<stream>/<file>) to upload again onto itself')
  .option('--release', 'release live claims on that work first (their holders are gone: a killed process)')
  .description('re-drive a half-done batch from its first missing output, through the same notifications')
  .action(async (target: string, options: { release?: boolean }) => {
    if (target.startsWith('raw/')) {
      parseRawKey(target);
      await vault().replay(target);
      print({ replayed: [target] });
      return;
    }
    if (!/^[a-z0-9][a-z0-9_-]{0,62}-[0-9a-f]{20}$/.test(target)) {
      throw new UsageError(
        `${JSON.stringify(target)} is neither a batch id (<stream>-<20 hex digits>) nor a raw object key (raw/<stream>/<file>)`,
      );
    }
    const { plan, replayed } = await replayBatch(vault(), target, options.release ? { release: true } : {});
    print({
      batch: target,
      step: plan.step,
      replayed,
      held: plan.held.map((c) => ({ scope: c.scope, holder: c.holder, lease_until: c.lease_until })),
    });
    if (plan.held.length && !options.release) {
      process.stderr.write(
        `${plan.held.length} claim(s) on this work are live: their holders may still be running. Wait until the lease ends, or pass --release if they are gone.\n`,
      );
      process.exitCode = EXIT.failed;
    }
  });

program
  .command('status')
  .argument('<batch>', 'the batch id', batchArgument)
  .description(
    'where a batch is: ingested, remediating (n of m results), reconciling, or how it ended; clusters waiting for review; the stream state',
  )
  .action(async (batch: string) => {
    print(await batchStatus(vault(), batch));
  });

const registry = program.command('registry').description('the approved functions by (stream, column, pattern signature)');
registry
  .command('list')
  .argument('<stream>', 'the stream', streamArgument)
  .description("a stream's registered functions")
  .action(async (stream: string) => {
    const entries = await listRegistered(vault(), stream);
    print(
      entries.map(({ signature, entry }) => ({
        signature,
        column: entry.column,
        rule: entry.rule,
        function: entry.function.name,
        approved_by: entry.approved_by,
      })),
    );
  });
registry
  .command('show')
  .argument('<stream>', 'the stream', streamArgument)
  .argument('<signature>', 'the pattern signature (24 hex digits, as `registry list` prints it)', signatureArgument)
  .description('one registered function, whole')
  .action(async (stream: string, signature: string) => {
    const entry = await findRegistered(vault(), stream, signature);
    if (!entry) throw new Error(`no function is registered for ${stream} ${signature} (vaultmend registry list ${stream})`);
    print({ signature, ...entry });
  });
registry
  .command('remove')
  .argument('<stream>', 'the stream', streamArgument)
  .argument('<signature>', 'the pattern signature', signatureArgument)
  .description('remove a registered function: the next batch with that pattern goes through the tiers again')
  .action(async (stream: string, signature: string) => {
    const removed = await removeRegistered(vault(), stream, signature);
    print({ stream, signature, removed });
    if (!removed) process.exitCode = EXIT.failed;
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // commander has printed its message (and the help); help and --version end with code 0.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  const { message, code } = failure(error, target);
  process.stderr.write(`${message}\n`);
  process.exit(code);
});
