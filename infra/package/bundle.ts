import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { build, type Metafile } from 'esbuild';

/**
 * Packages the bundles leave as `import` statements, shipped whole in node_modules/ instead: native
 * addons (their .node files are found at run time by `bindings`/`node-gyp-build`, which a bundler
 * cannot follow) and transformers.js, which loads onnxruntime-node's addon the same way. Everything
 * else (the AWS SDK, middy, Powertools, zod, acorn, ollama) is bundled: one file to parse, the
 * versions of the lockfile, nothing resolved from node_modules at start.
 */
export const EXTERNAL_PACKAGES = ['@duckdb/node-api', 'isolated-vm', 'faiss-node', '@huggingface/transformers'] as const;

/**
 * Modules that start a process of their own from a file beside them: a bundle that contains the
 * module needs that entry's bundle next to it (lib/remediate/sandbox.ts forks ./sandbox-process.js
 * relative to its own URL, i.e. to the bundle's).
 */
export const COMPANIONS: Record<string, { entry: string; source: string }> = {
  'lib/remediate/sandbox.ts': { entry: 'functions/sandbox-process', source: 'lib/remediate/sandbox-process.ts' },
};

/**
 * Lets the bundled CommonJS packages `require` Node's built-ins from an ES module bundle (esbuild's
 * own shim throws "Dynamic require of ... is not supported" there).
 */
const REQUIRE_SHIM =
  "import { createRequire as __vaultmendCreateRequire } from 'node:module';\nconst require = __vaultmendCreateRequire(import.meta.url);";

export interface FunctionBundle {
  /** The function's name in serverless.yml. */
  name: string;
  /** Bundle files, relative to the bundle directory (e.g. functions/ingest.js, functions/sandbox-process.js). */
  files: string[];
  /** External packages the function's bundles import (names, e.g. @duckdb/node-api). */
  externals: string[];
  /**
   * Those its handler's bundle imports statically, i.e. loads when the function starts (the others
   * are `await import()`ed at first use, or only imported by a companion process).
   */
  staticExternals: string[];
  /** Bytes of its bundle files. */
  bytes: number;
}

/** The package name of a bare import specifier (`@scope/name/sub` -> `@scope/name`). */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** `functions/ingest.handler` -> `functions/ingest` (the handler's module, without extension). */
export function handlerModule(handler: string): string {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new Error(`handler ${handler} is not <file>.<export>`);
  return handler.slice(0, dot);
}

/**
 * What each output imports that stays outside it, from esbuild's metafile: the external packages
 * (Node's built-ins aside), those of them it imports statically (loaded as it is imported), and the
 * companion entries it needs.
 */
export function outputNeeds(
  metafile: Metafile,
  outdir: string,
  root: string,
  output: string,
): { externals: string[]; staticExternals: string[]; companions: string[] } {
  const key = relative(root, join(outdir, `${output}.js`));
  const out = metafile.outputs[key];
  if (!out) throw new Error(`esbuild wrote no ${key}`);
  const externals = new Set<string>();
  const staticExternals = new Set<string>();
  for (const i of out.imports) {
    if (!i.external || isBuiltin(i.path)) continue;
    externals.add(packageName(i.path));
    if (i.kind !== 'dynamic-import') staticExternals.add(packageName(i.path));
  }
  const companions = Object.keys(out.inputs).flatMap((input) => (COMPANIONS[input] ? [COMPANIONS[input].entry] : []));
  return { externals: [...externals].sort(), staticExternals: [...staticExternals].sort(), companions };
}

/**
 * Bundles every handler (serverless.yml's `functions.<name>.handler`, a .ts module under the
 * service) into one ES module each under `outdir`, at the handler's own path with .js (what
 * Lambda loads for `functions/ingest.handler`), plus the companion entries they need. One bundle per
 * function (no shared chunks): each artifact holds only its own code.
 */
export async function bundleFunctions(root: string, outdir: string, handlers: Record<string, string>): Promise<FunctionBundle[]> {
  const entryPoints: Record<string, string> = {};
  for (const handler of Object.values(handlers)) entryPoints[handlerModule(handler)] = join(root, `${handlerModule(handler)}.ts`);
  for (const companion of Object.values(COMPANIONS)) entryPoints[companion.entry] = join(root, companion.source);
  const result = await build({
    absWorkingDir: root,
    entryPoints,
    outdir,
    bundle: true,
    splitting: false,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // ES module builds first (the AWS SDK and Powertools ship both): smaller, and no CommonJS wrappers.
    mainFields: ['module', 'main'],
    external: [...EXTERNAL_PACKAGES],
    banner: { js: REQUIRE_SHIM },
    tsconfig: join(root, 'tsconfig.json'),
    metafile: true,
    logLevel: 'warning',
    write: true,
  });
  const { metafile } = result;
  return Object.entries(handlers).map(([name, handler]) => {
    const module = handlerModule(handler);
    const needs = outputNeeds(metafile, outdir, root, module);
    const outputs = [module, ...needs.companions];
    const externals = new Set(needs.externals);
    for (const companion of needs.companions) for (const e of outputNeeds(metafile, outdir, root, companion).externals) externals.add(e);
    const files = outputs.map((o) => `${o}.js`);
    const bytes = files.reduce((sum, f) => sum + metafile.outputs[relative(root, join(outdir, f))]!.bytes, 0);
    return { name, files, externals: [...externals].sort(), staticExternals: needs.staticExternals, bytes };
  });
}
