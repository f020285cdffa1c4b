import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { bundleFunctions } from './bundle.ts';
import { stageFunction, type StagedFunction } from './stage.ts';
import { hostTarget, targetOf } from './target.ts';

/**
 * The osls plugin that turns the TypeScript handlers into Lambda artifacts, on `osls package` and
 * `osls deploy` only (serverless-offline and `invoke local` keep loading the .ts sources through
 * tsx). For each function: esbuild bundles its handler into functions/<name>.js (bundle.ts), the
 * native packages that bundle imports are laid out beside it with this target's binaries only
 * (stage.ts), and osls's own zip step packs it with `package.patterns` applied, as for a layer.
 * The zips become the functions' `package.artifact`, so osls packs nothing else: no dev dependency,
 * no test, no source file can reach an artifact.
 *
 * osls loads this file with Node 24's type stripping (the plugin runs in osls's own process): it and
 * what it imports use erasable TypeScript only.
 */

interface FunctionObject {
  handler?: string;
  image?: unknown;
  package?: { artifact?: string; patterns?: string[]; [key: string]: unknown };
}

interface PackagerPlugin {
  getExcludes(exclude: string[], excludeLayers: boolean): string[];
  getIncludes(include: string[]): string[];
  resolveFilePathsFromPatterns(params: { exclude: string[]; include: string[] }, prefix: string): Promise<string[]>;
  zipFiles(files: string[], zipFileName: string, prefix: string): Promise<string>;
}

interface Serverless {
  serviceDir: string;
  service: {
    provider: { architecture?: string };
    getAllFunctions(): string[];
    getFunction(name: string): FunctionObject;
  };
  pluginManager: { plugins: unknown[] };
}

interface Log {
  (message: string): void;
  info(message: string): void;
  notice(message: string): void;
}

/** What `osls package` writes beside the artifacts: per function, what is in its zip and its size. */
export const PACKAGE_REPORT = 'vaultmend-package.json';

export interface ArtifactReport extends Omit<StagedFunction, 'dir'> {
  artifact: string;
  zip_bytes: number;
  unzipped_bytes: number;
  files: number;
}

function isPackager(plugin: unknown): plugin is PackagerPlugin {
  const p = plugin as Partial<PackagerPlugin>;
  return typeof p.zipFiles === 'function' && typeof p.resolveFilePathsFromPatterns === 'function' && typeof p.getExcludes === 'function';
}

export default class VaultmendPackagePlugin {
  readonly hooks: Record<string, () => Promise<void>>;
  private readonly serverless: Serverless;
  private readonly log: Log;

  constructor(serverless: Serverless, options: { function?: string }, utils?: { log?: Log }) {
    this.serverless = serverless;
    const fallback = Object.assign((m: string) => process.stderr.write(`${m}\n`), {
      info: (m: string) => process.stderr.write(`${m}\n`),
      notice: (m: string) => process.stderr.write(`${m}\n`),
    });
    this.log = utils?.log ?? fallback;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.packageFunctions(this.serverless.service.getAllFunctions()),
      'before:package:function:package': () => this.packageFunctions(options.function ? [options.function] : []),
    };
  }

  private async packageFunctions(names: string[]): Promise<void> {
    const { serverless } = this;
    const root = serverless.serviceDir;
    const target = targetOf(serverless.service.provider.architecture);
    const host = hostTarget();
    if (host?.arch !== target.arch)
      throw new Error(
        `provider.architecture is ${target.architecture}, this machine is ${process.platform}/${process.arch}: the artifacts carry this machine's native addons (DuckDB, isolated-vm, faiss), so package on a linux ${target.architecture} machine`,
      );
    const packager = serverless.pluginManager.plugins.find(isPackager);
    if (!packager)
      throw new Error("osls's Package plugin (zipFiles, resolveFilePathsFromPatterns) was not found: this plugin is written for osls 4.3");

    const functions = names.map((name) => ({ name, fn: serverless.service.getFunction(name) })).filter(({ fn }) => !fn.image && fn.handler);
    const handlers = Object.fromEntries(functions.map(({ name, fn }) => [name, fn.handler!]));
    const work = mkdtempSync(join(tmpdir(), 'vaultmend-package-'));
    try {
      const started = performance.now();
      const bundles = await bundleFunctions(root, join(work, 'bundle'), handlers);
      this.log.info(`vaultmend: bundled ${bundles.length} handlers with esbuild in ${Math.round(performance.now() - started)} ms`);
      const reports: ArtifactReport[] = [];
      for (const bundle of bundles) {
        const fn = functions.find((f) => f.name === bundle.name)!.fn;
        const dir = join(work, 'stage', bundle.name);
        mkdirSync(dir, { recursive: true });
        const staged = stageFunction(root, join(work, 'bundle'), bundle, dir, target);
        const prefix = relative(root, dir);
        const files = await packager.resolveFilePathsFromPatterns(
          { exclude: packager.getExcludes([], false), include: packager.getIncludes(fn.package?.patterns ?? []) },
          prefix,
        );
        const paths = files.map((f) => join(dir, f));
        const artifact = await packager.zipFiles(paths, `${bundle.name}.zip`, dir);
        fn.package = { ...fn.package, artifact };
        const { dir: _dir, ...rest } = staged;
        const report: ArtifactReport = {
          ...rest,
          artifact: `${bundle.name}.zip`,
          zip_bytes: statSync(artifact).size,
          unzipped_bytes: paths.reduce((sum, p) => sum + statSync(p).size, 0),
          files: paths.length,
        };
        reports.push(report);
        this.log.notice(
          `vaultmend: ${bundle.name}.zip ${mb(report.zip_bytes)} MB (${mb(report.unzipped_bytes)} MB unzipped, ${report.files} files; externals: ${report.externals.join(', ') || 'none'})`,
        );
      }
      const out = join(root, '.serverless');
      mkdirSync(out, { recursive: true });
      const report = { architecture: target.architecture, node: process.version, functions: reports };
      writeFileSync(join(out, PACKAGE_REPORT), `${JSON.stringify(report, null, 2)}\n`);
    } finally {
      if (!process.env['VAULTMEND_KEEP_PACKAGE_STAGE']) rmSync(work, { recursive: true, force: true });
      else this.log.info(`vaultmend: staging kept in ${work}`);
    }
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
