import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlerParts, packagedFunctions, probe, type PackagedFunction } from './artifact-probe.ts';
import { unzipTo, zipEntries, type ZipEntry } from './zip-read.ts';

/**
 * Checks what `osls package --package DIR` wrote, function by function: the artifact exists, holds
 * the handler's bundle and an ES-module package.json, holds no source, test or dev dependency, fits
 * Lambda's limit, and — unpacked, in a fresh Node process with the function's environment and only
 * the artifact's own node_modules and lib/ — its handler imports, and so does every external package
 * its bundle loads later (the embedding model's runtime, the vector index, the sandbox's isolate).
 *   node infra/package/check-artifacts.ts DIR        (infra/package-check.sh runs it after packaging)
 */

/** Lambda's limit on a function's code, unzipped (its layers included): 250 MB. */
export const LAMBDA_UNZIPPED_LIMIT = 262_144_000;
/** Above this, a zip cannot be uploaded to Lambda directly (osls uploads through its S3 deployment bucket). */
export const LAMBDA_DIRECT_UPLOAD_LIMIT = 52_428_800;

export interface ArtifactCheck {
  name: string;
  zip_bytes: number;
  unzipped_bytes: number;
  files: number;
  problems: string[];
}

/** What is wrong in one artifact's file list (nothing: []). */
export function entryProblems(
  fn: Pick<PackagedFunction, 'handler'>,
  entries: readonly ZipEntry[],
  devDependencies: readonly string[],
): string[] {
  const names = entries.map((e) => e.name);
  const problems: string[] = [];
  const [module] = handlerParts(fn.handler);
  if (!names.includes(module)) problems.push(`no ${module} (the handler's bundle)`);
  if (!names.includes('package.json')) problems.push('no package.json (the bundles would not load as ES modules)');
  for (const name of names) {
    if (/\.(c|m)?ts$/.test(name) && !/\.d\.(c|m)?ts$/.test(name)) problems.push(`TypeScript source ${name}`);
    if (/^(tests?|__tests__)\//.test(name) || /^node_modules\/.*\/(tests?|__tests__)\//.test(name)) problems.push(`test file ${name}`);
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(name)?.[1];
    if (pkg && devDependencies.includes(pkg)) problems.push(`dev dependency ${pkg} (${name})`);
  }
  const unzipped = entries.reduce((sum, e) => sum + e.size, 0);
  if (unzipped > LAMBDA_UNZIPPED_LIMIT) problems.push(`${unzipped} bytes unzipped: over Lambda's limit of ${LAMBDA_UNZIPPED_LIMIT}`);
  return [...new Set(problems)];
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: check-artifacts.ts <package dir>');
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const devDependencies = Object.keys(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).devDependencies ?? {});
  const report = JSON.parse(readFileSync(join(dir, 'vaultmend-package.json'), 'utf8')) as {
    functions: Array<{ name: string; externals: string[]; shared_libraries: string[] }>;
  };
  const work = mkdtempSync(join(tmpdir(), 'vaultmend-check-'));
  const checks: ArtifactCheck[] = [];
  try {
    for (const fn of packagedFunctions(dir)) {
      const zip = join(dir, `${fn.name}.zip`);
      if (!existsSync(zip)) {
        checks.push({ name: fn.name, zip_bytes: 0, unzipped_bytes: 0, files: 0, problems: [`artifact ${fn.name}.zip is missing`] });
        continue;
      }
      const entries = zipEntries(readFileSync(zip));
      const problems = entryProblems(fn, entries, devDependencies);
      const root = join(work, fn.name);
      unzipTo(zip, root);
      const externals = report.functions.find((f) => f.name === fn.name)?.externals ?? [];
      try {
        const probed = await probe(fn, root, { packages: externals });
        if (probed.resolved_outside.length)
          problems.push(`modules resolved from outside the artifact: ${probed.resolved_outside.join(', ')}`);
        if (probed.native_outside.length)
          problems.push(`shared objects loaded from outside the artifact: ${probed.native_outside.join(', ')}`);
        const imports = Object.entries(probed.imported_ms ?? {})
          .map(([name, ms]) => `${name} ${Math.round(ms)} ms`)
          .join(', ');
        process.stdout.write(
          `${fn.name}: handler imported in ${Math.round(probed.import_ms)} ms${imports ? `; then ${imports}` : ''}; addons: ${probed.native.filter((n) => n.endsWith('.node')).join(', ') || 'none'}\n`,
        );
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
      checks.push({
        name: fn.name,
        zip_bytes: statSync(zip).size,
        unzipped_bytes: entries.reduce((s, e) => s + e.size, 0),
        files: entries.length,
        problems,
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const mb = (b: number) => (b / 1e6).toFixed(1).padStart(6);
  process.stdout.write(`\n${'function'.padEnd(10)}  zip MB  unzipped MB  files  externals\n`);
  for (const c of checks) {
    const externals = report.functions.find((f) => f.name === c.name)?.externals.join(', ') || '-';
    const direct = c.zip_bytes > LAMBDA_DIRECT_UPLOAD_LIMIT ? ' (over 50 MB zipped: uploaded through S3)' : '';
    process.stdout.write(
      `${c.name.padEnd(10)}  ${mb(c.zip_bytes)}  ${mb(c.unzipped_bytes)}       ${String(c.files).padStart(5)}  ${externals}${direct}\n`,
    );
  }
  const failed = checks.filter((c) => c.problems.length);
  for (const c of failed) for (const p of c.problems) process.stderr.write(`package-check: ${c.name}: ${p}\n`);
  if (failed.length) process.exit(1);
  process.stdout.write(`package-check: ${checks.length} artifacts OK\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`package-check: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
