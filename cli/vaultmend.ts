import { Command, CommanderError } from 'commander';
import { auditCommands } from './commands/audit.ts';
import { batchCommands } from './commands/batches.ts';
import { contractsCommands } from './commands/contracts.ts';
import { gateCommand } from './commands/gate.ts';
import { registryCommands } from './commands/registry.ts';
import { reviewCommands } from './commands/review.ts';
import { statusCommand } from './commands/status.ts';
import { streamCommands } from './commands/stream.ts';
import { sweepCommand } from './commands/sweep.ts';
import { uploadCommand } from './commands/upload.ts';
import { cliContext } from './context.ts';
import { EXIT, failure } from './usage.ts';

/**
 * The operators' tool: the commands are assembled here from cli/commands/*.ts, one module per
 * group. Configuration comes from the same variables as the functions; the store is S3_ENDPOINT
 * when given, else the running stack found by its state file (see stack-target.ts). Every
 * command that reads prints a short text summary, or the JSON document with `--json` (stdout
 * then holds only JSON; messages go to stderr).
 * Exit codes: 0 done, 1 a finding or the work failed, 2 the command line was wrong.
 */
const ctx = cliContext();
const program = new Command('vaultmend')
  .description('vaultmend operator commands (the store: S3_ENDPOINT, or the running stack found in STACK_DIR)')
  .showHelpAfterError()
  .exitOverride();
contractsCommands(program, ctx);
streamCommands(program, ctx);
uploadCommand(program, ctx);
statusCommand(program, ctx);
batchCommands(program, ctx);
sweepCommand(program, ctx);
reviewCommands(program, ctx);
registryCommands(program, ctx);
auditCommands(program, ctx);
gateCommand(program);

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // commander has printed its message (and the help); help and --version end with code 0.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  const { message, code } = failure(error, ctx.target());
  process.stderr.write(`${message}\n`);
  process.exit(code);
});
