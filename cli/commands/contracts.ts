import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { type Column, type Contract, evolutionPolicy } from '../../lib/contract/contract.ts';
import { compatibility } from '../../lib/contract/compatibility.ts';
import {
  ContractInvalidError,
  loadContract,
  parseContract,
  parseContractText,
  registerContract,
  type RegisteredContract,
} from '../../lib/contract/registry.ts';
import { contractHistory, loadContractVersion } from '../../lib/contract/contract-versions.ts';
import { keys } from '../../lib/keys.ts';
import { proposalCommands } from './proposals.ts';
import type { ObjectStore } from '../../lib/store/object-store.ts';
import { type CliContext, exitWith } from '../context.ts';
import { contractDiff, diffText } from '../contract-diff.ts';
import { type Out, processOut } from '../io.ts';
import { emit, fields, percent, table } from '../output.ts';
import { EXIT, existingFile, streamArgument, UsageError } from '../usage.ts';

/** How to register a stream's contract, for messages about a stream that has none. */
export const registerHint = (stream: string): string =>
  `no contract is registered for stream ${stream} (contracts/${stream}.json): register one with \`vaultmend contracts register ${stream}.contract.json\``;

/** Reads and validates every contract file first: a missing file is a usage error, an invalid one names itself. */
export function readContracts(files: string[]): Contract[] {
  for (const file of files) existingFile(file);
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

/** `contracts register FILE...`: registers the (already validated) contracts; prints one entry per file. */
export async function runRegister(store: ObjectStore, files: string[], contracts: Contract[], out: Out, json?: boolean): Promise<number> {
  const done: {
    file: string | undefined;
    stream: string;
    version: number;
    fingerprint: string;
    registry_version?: number;
    change?: string;
  }[] = [];
  for (const [i, contract] of contracts.entries()) {
    const before = await loadContract(store, contract.stream);
    const registered = await registerContract(store, contract, new Date(), files[i]);
    // What the stream's policy would have said of this change had a file brought it (registering by hand is always allowed).
    const change = before && compatibility(before.contract, registered.contract, evolutionPolicy(before.contract)).rule;
    done.push({
      file: files[i],
      stream: registered.contract.stream,
      version: registered.contract.version,
      fingerprint: registered.fingerprint,
      ...(registered.registry_version ? { registry_version: registered.registry_version } : {}),
      ...(change && change !== 'no change' ? { change } : {}),
    });
  }
  emit(out, json, done, () =>
    done
      .map(
        (d) =>
          `registered ${d.stream} v${d.version} from ${d.file} (fingerprint ${d.fingerprint}${d.registry_version ? `, registry version ${d.registry_version}` : ''})${d.change ? `; schema change: ${d.change}` : ''}\n`,
      )
      .join(''),
  );
  return EXIT.ok;
}

/** A column's value rules in one cell: `min 1, max_length 120`. */
function rulesOf(c: Column): string {
  const rules: Array<[string, unknown]> = [
    ['pattern', c.pattern],
    ['allowed', c.allowed?.join('|')],
    ['min', c.min],
    ['max', c.max],
    ['max_length', c.max_length],
    ['scale', c.scale],
    ['rounding', c.rounding],
    ['format', c.format],
  ];
  return rules
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** A contract test in one line: `unique columns=order_id`. */
const testSummary = (test: Contract['tests'][number]): string =>
  Object.entries(test)
    .map(([k, v]) => (k === 'type' ? String(v) : `${k}=${Array.isArray(v) ? v.join(',') : v}`))
    .join(' ');

/** The registered contract as text: its header, a table of its columns, its tests. */
export function contractText(registered: RegisteredContract): string {
  const c = registered.contract;
  const f = c.format;
  const head = fields([
    ['stream', c.stream],
    ['version', c.version],
    ['fingerprint', registered.fingerprint],
    ['registered', registered.registered_at],
    [
      'format',
      `${f.type}${f.delimiter ? `, delimiter ${JSON.stringify(f.delimiter)}` : ''}, null tokens ${f.null_tokens.length ? f.null_tokens.map((t) => JSON.stringify(t)).join(' ') : 'none'}`,
    ],
    ['breaker', c.max_failing_share === undefined ? 'none' : `halt above ${percent(c.max_failing_share)} failing rows`],
    ['description', c.description],
  ]);
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const columns = table(
    c.columns.map((col) => [col.name, col.type, yes(col.nullable), yes(col.primary_key), yes(col.pii), rulesOf(col)]),
    ['column', 'type', 'nullable', 'key', 'pii', 'rules'],
  );
  const tests = c.tests.length ? `tests\n${c.tests.map((t) => `  ${testSummary(t)}\n`).join('')}` : 'tests none\n';
  return `${head}\n${columns}\n${tests}`;
}

/** `contracts show STREAM [--version N]`: the registered contract, or one of its versions; exit 1 when there is none. */
export async function runShow(store: ObjectStore, stream: string, out: Out, json?: boolean, version?: number): Promise<number> {
  const registered = version === undefined ? await loadContract(store, stream) : await versionAsRegistered(store, stream, version);
  if (!registered) {
    out.stderr(
      `${version === undefined ? registerHint(stream) : `stream ${stream} has no contract version ${version}: see \`vaultmend contracts history ${stream}\``}\n`,
    );
    return EXIT.failed;
  }
  emit(out, json, registered, () => contractText(registered));
  return EXIT.ok;
}

/** One registry version as a registered contract (its stored contract parsed like the current one). */
async function versionAsRegistered(store: ObjectStore, stream: string, version: number): Promise<RegisteredContract | undefined> {
  const v = await loadContractVersion(store, stream, version);
  if (!v) return undefined;
  const ref = keys.contractVersion(stream, version);
  return {
    contract: parseContract(v.contract, ref),
    fingerprint: v.fingerprint,
    registered_at: v.registered_at,
    registry_version: v.version,
  };
}

/** `contracts history STREAM`: every version of the stream's contract, oldest first; exit 1 when it has none. */
export async function runHistory(store: ObjectStore, stream: string, out: Out, json?: boolean): Promise<number> {
  const history = await contractHistory(store, stream);
  if (history.length === 0) {
    const current = await loadContract(store, stream);
    out.stderr(
      `${current ? `stream ${stream} has a contract but no recorded versions (registered before versions were kept): register it again to start its history` : registerHint(stream)}\n`,
    );
    return EXIT.failed;
  }
  const rows = history.map((v) => {
    const c = v.contract as { version?: unknown; columns?: unknown[] };
    return {
      version: v.version,
      declared_version: c.version,
      columns: Array.isArray(c.columns) ? c.columns.length : 0,
      fingerprint: v.fingerprint,
      registered_at: v.registered_at,
    };
  });
  emit(out, json, rows, () =>
    table(
      rows.map((r) => [r.version, String(r.declared_version), r.columns, r.fingerprint.slice(0, 16), r.registered_at]),
      ['version', 'declared', 'columns', 'fingerprint', 'registered'],
    ),
  );
  return EXIT.ok;
}

/** `contracts diff STREAM A B`: two versions of the registry against each other; exit 1 when they differ. */
export async function runDiffVersions(store: ObjectStore, stream: string, a: number, b: number, out: Out, json?: boolean): Promise<number> {
  const [older, newer] = await Promise.all([versionAsRegistered(store, stream, a), versionAsRegistered(store, stream, b)]);
  const missing = !older ? a : !newer ? b : undefined;
  if (missing !== undefined || !older || !newer) {
    out.stderr(`stream ${stream} has no contract version ${missing}: see \`vaultmend contracts history ${stream}\`\n`);
    return EXIT.failed;
  }
  const diff = contractDiff(older, newer.contract);
  emit(out, json, diff, () => diffText(diff, `version ${b}`));
  return diff.same ? EXIT.ok : EXIT.failed;
}

/** A version number given on the command line. */
function versionArgument(text: string): number {
  if (!/^[1-9][0-9]{0,5}$/.test(text)) throw new UsageError(`${JSON.stringify(text)} is not a contract version (1, 2, ...)`);
  return Number(text);
}

/** `contracts diff STREAM FILE`: the registered contract against a local file; exit 1 when they differ (like diff(1)). */
export async function runDiff(store: ObjectStore, stream: string, file: string, out: Out, json?: boolean): Promise<number> {
  const next = parseContractText(readFileSync(existingFile(file), 'utf8'), file);
  if (next.stream !== stream) throw new UsageError(`${file} is the contract of stream ${next.stream}, not ${stream}`);
  const registered = await loadContract(store, stream);
  if (!registered) {
    out.stderr(`${registerHint(stream)}\n`);
    return EXIT.failed;
  }
  const diff = contractDiff(registered, next);
  emit(out, json, diff, () => diffText(diff, file));
  return diff.same ? EXIT.ok : EXIT.failed;
}

/** Adds `contracts register | show | history | diff | proposals | adopt | reject`. */
export function contractsCommands(program: Command, ctx: CliContext): void {
  const contracts = program.command('contracts').description('the schema registry in the vault');
  contracts
    .command('register')
    .argument('<files...>', 'contract JSON files')
    .option('--json', 'print the JSON document')
    .description('validate contracts and register them into the vault (contracts/<stream>.json)')
    .action(async (files: string[], o: { json?: boolean }) => {
      const parsed = readContracts(files);
      exitWith(await runRegister(ctx.vault(), files, parsed, processOut, o.json));
    });
  contracts
    .command('show')
    .argument('<stream>', 'the stream name', streamArgument)
    .option('--json', 'print the JSON document')
    .option('--version <n>', 'one version of the registry (see contracts history)', versionArgument)
    .description("a stream's registered contract (or one of its versions): columns, rules, tests, fingerprint")
    .action(async (stream: string, o: { json?: boolean; version?: number }) =>
      exitWith(await runShow(ctx.vault(), stream, processOut, o.json, o.version)),
    );
  contracts
    .command('history')
    .argument('<stream>', 'the stream name', streamArgument)
    .option('--json', 'print the JSON document')
    .description("every version of a stream's contract, oldest first")
    .action(async (stream: string, o: { json?: boolean }) => exitWith(await runHistory(ctx.vault(), stream, processOut, o.json)));
  contracts
    .command('diff')
    .argument('<stream>', 'the stream name', streamArgument)
    .argument('<file>', 'a contract JSON file (against the registered contract), or a version number')
    .argument('[b]', 'a second version number: diff version a against version b')
    .option('--json', 'print the JSON document')
    .description('the registered contract against a local file, or two versions against each other; exit 1 when they differ')
    .action(async (stream: string, a: string, b: string | undefined, o: { json?: boolean }) => {
      if (b !== undefined)
        return exitWith(await runDiffVersions(ctx.vault(), stream, versionArgument(a), versionArgument(b), processOut, o.json));
      existingFile(a);
      exitWith(await runDiff(ctx.vault(), stream, a, processOut, o.json));
    });
  proposalCommands(contracts, ctx);
}
