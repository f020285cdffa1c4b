import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The probe that runs in each fresh process (plain Node, types stripped: no tsx in what is measured). */
export const PROBE = fileURLToPath(new URL('./import-probe.ts', import.meta.url));

/** A function as `osls package` left it: its artifact and what Lambda would be configured with. */
export interface PackagedFunction {
  name: string;
  /** e.g. functions/ingest.handler */
  handler: string;
  memorySize: number;
  /** The function's environment, resolved (CloudFormation's Environment.Variables). */
  environment: Record<string, string>;
}

/** What the probe reports (infra/package/import-probe.ts). */
export interface ProbeReport {
  import_ms: number;
  init_ms: number;
  rss_mb_after_import: number;
  packages_after_import: string[];
  native_after_import: string[];
  first_invoke_ms?: number;
  rss_mb_after_invoke?: number;
  response?: unknown;
  imported_ms?: Record<string, number>;
  packages: string[];
  native: string[];
  /** Shared objects mapped from outside the artifact and the system's library directories (should be none). */
  native_outside: string[];
  /** Modules resolved from outside the artifact (should be none). */
  resolved_outside: string[];
}

/** osls's logical id of a function's AWS::Lambda::Function resource. */
const logicalId = (name: string) =>
  `${name.charAt(0).toUpperCase()}${name.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore')}LambdaFunction`;

/**
 * The functions of a package directory (`osls package --package DIR`), from the CloudFormation
 * template osls wrote there: handler, memory and the environment exactly as Lambda would get it.
 */
export function packagedFunctions(packageDir: string): PackagedFunction[] {
  const state = JSON.parse(readFileSync(join(packageDir, 'serverless-state.json'), 'utf8')) as {
    service: { functions: Record<string, { handler?: string; image?: unknown }> };
  };
  const template = JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as {
    Resources: Record<
      string,
      { Properties?: { Handler?: string; MemorySize?: number; Environment?: { Variables?: Record<string, unknown> } } }
    >;
  };
  return Object.entries(state.service.functions)
    .filter(([, fn]) => !fn.image && fn.handler)
    .map(([name, fn]) => {
      const props = template.Resources[logicalId(name)]?.Properties ?? {};
      const variables = props.Environment?.Variables ?? {};
      const environment = Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      return { name, handler: fn.handler!, memorySize: props.MemorySize ?? 1024, environment };
    });
}

/**
 * The environment of a Lambda process for `fn` whose code is unpacked at `root` (Lambda's own
 * variables, the function's, its code's lib/ on the library path as /var/task/lib is), and nothing
 * of this shell's (no NODE_OPTIONS, no tsx).
 */
export function lambdaEnvironment(fn: PackagedFunction, root: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    LAMBDA_TASK_ROOT: root,
    LD_LIBRARY_PATH: join(root, 'lib'),
    AWS_REGION: fn.environment['S3_REGION'] ?? 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: `vaultmend-${fn.name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    ...fn.environment,
    ...overrides,
  };
}

/** handler `functions/ingest.handler` -> [module path inside the artifact, export name]. */
export function handlerParts(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [`${handler.slice(0, dot)}.js`, handler.slice(dot + 1)];
}

/**
 * Starts a fresh Node process (this Node) in the artifact at `root`, imports the handler (and, with
 * an event, invokes it once; then imports `packages` from beside it) and returns what it measured.
 */
export async function probe(
  fn: PackagedFunction,
  root: string,
  options: { event?: string; packages?: string[]; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ProbeReport> {
  if (Number(process.versions.node.split('.')[0]) < 24)
    throw new Error(`the probe runs on this Node (${process.version}); Lambda's is 24: put node_modules/.bin first on PATH`);
  const [module, exportName] = handlerParts(fn.handler);
  const dir = mkdtempSync(join(tmpdir(), 'vaultmend-probe-'));
  const out = join(dir, 'report.json');
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [PROBE, out, join(root, module), exportName, options.event ?? '-', ...(options.packages ?? [])],
        {
          cwd: root,
          env: lambdaEnvironment(fn, root, options.env),
          timeout: options.timeoutMs ?? 60_000,
          killSignal: 'SIGKILL',
          maxBuffer: 16 << 20,
        },
        (error, _stdout, stderr) =>
          error ? reject(new Error(`${fn.name}: the probe failed: ${error.message}\n${stderr.slice(-4000)}`)) : resolve(),
      );
    });
    return JSON.parse(readFileSync(out, 'utf8')) as ProbeReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
