import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { Target } from './target.ts';

/** What a package needs at run time, where that is less than its package.json says. */
export interface PackageRule {
  /** The dependencies it loads at run time (the others serve only its install or build scripts). */
  runtimeDependencies?: readonly string[];
  /** Whether a file (path inside the package, `/`-separated) is shipped; absent: every file. */
  keep?: (path: string, target: Target) => boolean;
}

/**
 * The packages whose tarballs hold much more than runs on one Lambda: other platforms' binaries,
 * sources of the addon, browser builds, install-time helpers. Each rule names what stays.
 */
export const PACKAGE_RULES: Record<string, PackageRule> = {
  // node-gyp-build picks prebuilds/<platform>-<arch>/<name>.abi<ABI>.<libc>.node; Lambda is glibc.
  'isolated-vm': {
    keep: (p, t) =>
      p === 'package.json' ||
      p === 'LICENSE' ||
      p === 'isolated-vm.js' ||
      (p.startsWith(`prebuilds/linux-${t.arch}/`) && p.endsWith(`.abi${process.versions.modules}.glibc.node`)),
  },
  // The addon compiled at set-up (infra/vector-index/build-faiss-node.sh); `bindings` finds it in build/Release.
  // node-addon-api and prebuild-install are for building and installing it.
  'faiss-node': {
    runtimeDependencies: ['bindings'],
    keep: (p) => p === 'package.json' || p === 'LICENSE' || p.startsWith('lib/') || p === 'build/Release/faiss-node.node',
  },
  // The Node build only (onnxruntime-web is inlined in it); the CommonJS, browser and minified builds stay out.
  '@huggingface/transformers': {
    runtimeDependencies: ['@huggingface/jinja', '@huggingface/tokenizers', 'onnxruntime-node', 'sharp'],
    keep: (p) => p === 'package.json' || p === 'LICENSE' || p === 'dist/transformers.node.mjs',
  },
  // adm-zip and global-agent serve its install script (a CUDA download); the CPU binding is in bin/.
  'onnxruntime-node': {
    runtimeDependencies: ['onnxruntime-common'],
    keep: (p, t) => p === 'package.json' || p === 'LICENSE' || p.startsWith('dist/') || p.startsWith(`bin/napi-v6/linux/${t.arch}/`),
  },
};

export interface PackageDir {
  name: string;
  /** Absolute directory. */
  dir: string;
  /** Files to ship, relative to `dir`. */
  files: string[];
}

function readManifest(dir: string): { name: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

/** Node's lookup of package `name` from a module in `fromDir`: <dir>/node_modules/<name>, walking up to `root`. */
export function findPackageDir(name: string, fromDir: string, root: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    // A package's own nested node_modules are packages of their own, reached through its dependencies.
    if (entry.name === 'node_modules') continue;
    if (entry.isDirectory()) files.push(...listFiles(dir, path));
    else if (entry.isFile() || (entry.isSymbolicLink() && statSync(join(dir, path)).isFile())) files.push(path);
  }
  return files;
}

/**
 * The packages `names` and everything they load at run time, found from `root` as Node would find
 * them, each with the files it ships for `target`. Optional dependencies are followed where npm
 * installed them (the platform packages of this machine); a required one that is missing is an error.
 */
export function runtimePackages(root: string, names: readonly string[], target: Target): PackageDir[] {
  const found = new Map<string, PackageDir>();
  const visit = (name: string, fromDir: string, optional: boolean): void => {
    const dir = findPackageDir(name, fromDir, root);
    if (!dir) {
      if (optional) return;
      throw new Error(`${name} (needed at run time from ${relative(root, fromDir) || '.'}) is not installed: run npm ci`);
    }
    if (found.has(dir)) return;
    const rule = PACKAGE_RULES[name] ?? {};
    const files = listFiles(dir)
      .filter((f) => (rule.keep ? rule.keep(f, target) : true))
      .sort();
    found.set(dir, { name, dir, files });
    const manifest = readManifest(dir);
    const required = rule.runtimeDependencies ?? Object.keys(manifest.dependencies ?? {});
    for (const dep of required) visit(dep, dir, false);
    if (!rule.runtimeDependencies) for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of names) visit(name, root, false);
  return [...found.values()].sort((a, b) => (a.dir < b.dir ? -1 : 1));
}

/** A package directory's path inside the artifact (node_modules/... as under the service root). */
export function artifactPath(root: string, dir: string): string {
  return relative(root, dir).split(sep).join('/');
}
