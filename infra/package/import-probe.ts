import { readFileSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PROBE_SELF = fileURLToPath(import.meta.url);

/**
 * Run in a fresh `node` process (Node 24 strips this file's types; no tsx, no loader): imports one
 * handler module the way Lambda's runtime does, optionally invokes it once on an event, imports
 * further packages from beside it, and writes what it measured to a JSON file:
 *   node infra/package/import-probe.ts <result.json> <module.js> <export> [<event.json>|-] [<package>...]
 * `init_ms` is the time since the process started (Node's own start included, as in Lambda's Init
 * Duration); `import_ms` the import alone. `packages` are the packages resolved from node_modules,
 * `native` the addons and libraries mapped into the process, so a test can tell what was loaded.
 */
const [resultFile, modulePath, exportName, eventFile, ...packages] = process.argv.slice(2);
if (!resultFile || !modulePath || !exportName)
  throw new Error('usage: import-probe.ts <result.json> <module.js> <export> [<event.json>|-] [<package>...]');

/** The artifact's root: the handler module is functions/<name>.js in it. */
const root = dirname(dirname(modulePath));

const resolved = new Set<string>();
/** Modules resolved outside the artifact (a parent folder's node_modules would hide a missing package): should be none. */
const resolvedOutside = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(result.url);
    if (m) resolved.add(m[1]!);
    if (
      result.url.startsWith('file:') &&
      relative(root, fileURLToPath(result.url)).startsWith('..') &&
      fileURLToPath(result.url) !== PROBE_SELF
    )
      resolvedOutside.add(fileURLToPath(result.url));
    return result;
  },
});

/** Shared objects mapped into this process: the artifact's (addons, libraries) by file name, and any from elsewhere that is not the system's. */
function mapped(): { inside: string[]; outside: string[] } {
  const inside = new Set<string>();
  const outside = new Set<string>();
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const path = line.split(/\s+/)[5];
    if (!path?.startsWith('/') || !/\.(node|so)(\.|$)/.test(basename(path))) continue;
    if (!relative(root, path).startsWith('..')) inside.add(basename(path));
    else if (!/^\/(usr\/)?lib(64|32)?\//.test(path) && path !== process.execPath) outside.add(path);
  }
  return { inside: [...inside].sort(), outside: [...outside].sort() };
}
const mappedNative = () => mapped().inside;

const report: Record<string, unknown> = {};
const before = performance.now();
const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
const after = performance.now();
report['import_ms'] = after - before;
report['init_ms'] = after;
report['rss_mb_after_import'] = process.memoryUsage().rss / 2 ** 20;
report['packages_after_import'] = [...resolved].sort();
report['native_after_import'] = mappedNative();

const handler = module[exportName];
if (typeof handler !== 'function') throw new Error(`${modulePath} exports no function ${exportName}`);
if (eventFile && eventFile !== '-') {
  const event = JSON.parse(readFileSync(eventFile, 'utf8'));
  const context = {
    functionName: process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? 'probe',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:probe',
    memoryLimitInMB: process.env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'] ?? '1024',
    awsRequestId: '00000000-0000-4000-8000-000000000000',
    logGroupName: '/aws/lambda/probe',
    logStreamName: 'probe',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 300_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  const started = performance.now();
  const response = await (handler as (e: unknown, c: unknown) => Promise<unknown>)(event, context);
  report['first_invoke_ms'] = performance.now() - started;
  report['response'] = response;
  report['rss_mb_after_invoke'] = process.memoryUsage().rss / 2 ** 20;
}
const imported: Record<string, number> = {};
if (packages.length) {
  // Imported from beside the handler, so that they resolve as the handler's own imports do.
  const importer = join(dirname(modulePath), `.import-probe-${process.pid}.mjs`);
  writeFileSync(importer, 'export default (name) => import(name);\n');
  const load = ((await import(pathToFileURL(importer).href)) as { default: (name: string) => Promise<unknown> }).default;
  for (const name of packages) {
    const started = performance.now();
    await load(name);
    imported[name] = performance.now() - started;
  }
}
if (packages.length) report['imported_ms'] = imported;
report['packages'] = [...resolved].sort();
report['native'] = mappedNative();
report['native_outside'] = mapped().outside;
report['resolved_outside'] = [...resolvedOutside].sort();
writeFileSync(resultFile, `${JSON.stringify(report)}\n`);
process.exit(0);
