import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { VaultKeyStore } from '../../lib/audit/data-keys.ts';
import { eraseRecords, recordOf } from '../../lib/audit/erase-records.ts';
import { verifyBatchAudit } from '../../lib/audit/verify-batch-audit.ts';
import { loadContract } from '../../lib/contract/registry.ts';
import { rollbackBatch, type RollbackDeps } from '../../lib/reconcile/rollback.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { type CliContext, engineOf, exitWith } from '../context.ts';
import { type Out, processOut } from '../io.ts';
import { count, emit, fields, table } from '../output.ts';
import { batchArgument, EXIT, existingFile, streamArgument, UsageError } from '../usage.ts';
import { registerHint } from './contracts.ts';

/** `audit verify BATCH [--file PATH]`: the hash chain against the manifest's root and the log's retention; exit 1 on any gap or edit. */
export async function runVerify(store: ObjectStore, batch: string, file: string | undefined, out: Out, json?: boolean): Promise<number> {
  const verdict = await verifyBatchAudit(store, batch, file ? readFileSync(file, 'utf8') : undefined);
  emit(out, json, verdict, () => {
    const r = verdict.retention;
    const head = fields([
      ['audit', `${verdict.key}${file ? ` (checked: ${file})` : ''}`],
      ['verdict', verdict.ok ? 'ok' : 'FAILED'],
      ['chain', `${verdict.chain.ok ? 'ok' : 'broken'}, ${count(verdict.chain.lines, 'line')}, root ${verdict.chain.root}`],
      [
        'retention',
        `${r.ok ? 'ok' : 'NOT LOCKED AS EXPECTED'}: ${r.mode ?? 'none'} until ${r.retain_until ?? '-'} (expected ${r.expected_until})`,
      ],
      ['overwrites', verdict.later_versions],
    ]);
    const problems = verdict.chain.problems.map((p) => [`line ${p.line}`, p.kind, p.detail]);
    return head + (problems.length ? `\n${table(problems, ['where', 'problem', 'detail'])}` : '');
  });
  return verdict.ok ? EXIT.ok : EXIT.failed;
}

/** `erase STREAM --pk VALUE... | --record HASH...`: destroys the records' data keys. */
export async function runErase(
  store: ObjectStore,
  stream: string,
  o: { pk?: string[]; record?: string[] },
  out: Out,
  json?: boolean,
): Promise<number> {
  const records = [...(o.record ?? [])];
  if (o.pk) {
    const registered = await loadContract(store, stream);
    if (!registered) throw new Error(`${registerHint(stream)}; --pk needs it to hash the key, or name the records with --record`);
    records.push(recordOf(registered.contract, o.pk));
  }
  const erased = await eraseRecords(new VaultKeyStore(store), stream, records);
  emit(out, json, erased, () =>
    table(
      erased.map((e) => [e.record, e.destroyed ? 'key destroyed' : 'no key (nothing to erase)']),
      ['record', 'erased'],
    ),
  );
  return EXIT.ok;
}

/** Refuses erase arguments that name no record, or a record hash that is not one. */
function checkEraseArguments(o: { pk?: string[]; record?: string[] }): void {
  if (!o.pk?.length && !o.record?.length) throw new UsageError('name the record: --pk VALUE... or --record HASH...');
  for (const hash of o.record ?? []) {
    if (!/^[0-9a-f]{64}$/.test(hash))
      throw new UsageError(`--record ${JSON.stringify(hash)} is not a primary-key hash (64 lowercase hex digits)`);
  }
}

/** `rollback BATCH`: the batch's promoted rows with every fixed cell set back, as `rollback/<stream>/<batch>.parquet`. */
export async function runRollback(deps: RollbackDeps, batch: string, out: Out, json?: boolean): Promise<number> {
  const outcome = await rollbackBatch(deps, batch);
  emit(out, json, outcome, () =>
    fields([
      ['written', outcome.key],
      ['rows', outcome.rows],
      ['reverted', count(outcome.reverted_cells, 'cell')],
      ['erased', `${count(outcome.erased_cells, 'cell')} (their records were erased: left as fixed)`],
    ]),
  );
  return EXIT.ok;
}

/** Adds `audit verify`, `erase` and `rollback`. */
export function auditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the write-once audit log of each batch');
  audit
    .command('verify')
    .argument('<batch>', 'the batch id', batchArgument)
    .option('--file <path>', 'verify this copy of the log instead of the stored one (the retention is still read from the store)')
    .option('--json', 'print the JSON document')
    .description('recompute the hash chain against the manifest root and check the Object Lock retention; exit 1 on any gap or edit')
    .action(async (batch: string, o: { file?: string; json?: boolean }) => {
      if (o.file) existingFile(o.file);
      exitWith(await runVerify(ctx.vault(), batch, o.file, processOut, o.json));
    });
  program
    .command('erase')
    .argument('<stream>', 'the stream name', streamArgument)
    .option('--pk <values...>', 'the primary key value(s) of the person or record')
    .option('--record <hashes...>', 'records named by their primary-key hash instead')
    .option('--json', 'print the JSON document')
    .description("right to erasure: destroy the records' data keys; their values in the locked audit can no longer be read")
    .action(async (stream: string, o: { pk?: string[]; record?: string[]; json?: boolean }) => {
      checkEraseArguments(o);
      exitWith(await runErase(ctx.vault(), stream, o, processOut, o.json));
    });
  program
    .command('rollback')
    .argument('<batch>', 'the batch id', batchArgument)
    .option('--json', 'print the JSON document')
    .description("undo a batch's fixes from its audit: rollback/<stream>/<batch>.parquet holds its rows as they were before remediation")
    .action(async (batch: string, o: { json?: boolean }) => {
      const store = ctx.vault();
      const deps = { store, keys: new VaultKeyStore(store), workDir: ctx.config().WORK_DIR, engine: engineOf(ctx.config()) };
      exitWith(await runRollback(deps, batch, processOut, o.json));
    });
}
