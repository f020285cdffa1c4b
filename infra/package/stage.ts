import { execFileSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FunctionBundle } from './bundle.ts';
import { compareVersions, highestVersion, isElf, readElf } from './elf.ts';
import { artifactPath, runtimePackages } from './runtime-files.ts';
import type { Target } from './target.ts';

/**
 * Libraries every Lambda Node.js runtime has (glibc's, the GCC runtime, libstdc++): an addon links
 * against the runtime's own. Any other library an addon needs that is not in the artifact is copied
 * into the artifact's lib/, which is on Lambda's LD_LIBRARY_PATH (/var/task/lib).
 */
export const RUNTIME_LIBRARIES = new Set([
  'linux-vdso.so.1',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'libpthread.so.0',
  'librt.so.1',
  'libresolv.so.2',
  'libutil.so.1',
  'libgcc_s.so.1',
  'libstdc++.so.6',
]);

/** glibc of Lambda's nodejs24.x runtime (Amazon Linux 2023): an addon that needs a newer one cannot load there. */
export const TARGET_GLIBC = '2.34';

export interface NativeFile {
  /** Path inside the artifact. */
  path: string;
  needs_glibc: string | undefined;
  needs_glibcxx: string | undefined;
}

export interface StagedFunction {
  name: string;
  dir: string;
  bundle_bytes: number;
  externals: string[];
  /** Of those, the ones its handler loads when the function starts. */
  static_externals: string[];
  packages: string[];
  /** System libraries copied into lib/ (by soname). */
  shared_libraries: string[];
  native: NativeFile[];
}

/** Hard link (same file system) or copy. */
function place(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const path = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? walk(dir, path) : [path];
  });
}

/** `ldd`'s resolution of a shared object's libraries, transitively: soname -> path (undefined: not found). */
export function resolveLibraries(file: string): Map<string, string | undefined> {
  const out = execFileSync('ldd', [file], { encoding: 'utf8', timeout: 30_000 });
  const libraries = new Map<string, string | undefined>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(not found|(\S+))/.exec(line);
    if (m) libraries.set(m[1]!, m[2] === 'not found' ? undefined : m[3]);
  }
  return libraries;
}

/**
 * Lays out one function's artifact in `dir`: its bundles (functions/*.js), a package.json that
 * makes them ES modules, the external packages its bundles import with everything they load
 * (node_modules/..., only this target's binaries), and the system libraries those addons need that
 * Lambda does not have (lib/). Every ELF file must be built for the target and need no newer glibc
 * than Lambda's; what each needs is recorded.
 */
export function stageFunction(root: string, bundleDir: string, bundle: FunctionBundle, dir: string, target: Target): StagedFunction {
  for (const file of bundle.files) place(join(bundleDir, file), join(dir, file));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `vaultmend-${bundle.name}`, private: true, type: 'module' }, null, 2)}\n`,
  );
  const packages = runtimePackages(root, bundle.externals, target);
  for (const pkg of packages) for (const file of pkg.files) place(join(pkg.dir, file), join(dir, artifactPath(root, pkg.dir), file));

  const native: NativeFile[] = [];
  const copied = new Map<string, string>();
  const inArtifact = new Set(walk(dir).map((p) => basename(p)));
  for (const path of walk(dir).filter((p) => p.endsWith('.node') || /\.so(\.\d+)*$/.test(p))) {
    const full = join(dir, path);
    if (!isElf(full)) continue;
    const elf = readElf(full);
    if (elf.machine !== target.elfMachine)
      throw new Error(
        `${bundle.name}: ${path} is built for ELF machine ${elf.machine}, not ${target.architecture}: package on a ${target.architecture} machine`,
      );
    for (const [soname, resolved] of resolveLibraries(full)) {
      if (RUNTIME_LIBRARIES.has(soname) || inArtifact.has(soname) || copied.has(soname)) continue;
      if (!resolved) throw new Error(`${bundle.name}: ${path} needs ${soname}, which this machine does not have`);
      copied.set(soname, realpathSync(resolved));
    }
  }
  if (copied.size > 0) mkdirSync(join(dir, 'lib'), { recursive: true });
  for (const [soname, from] of copied) copyFileSync(from, join(dir, 'lib', soname));
  for (const path of walk(dir).filter((p) => p.endsWith('.node') || /\.so(\.\d+)*$/.test(p))) {
    const full = join(dir, path);
    if (!statSync(full).isFile() || !isElf(full)) continue;
    const { versions } = readElf(full);
    const glibc = highestVersion(versions, 'GLIBC');
    if (glibc && compareVersions(glibc, TARGET_GLIBC) > 0)
      throw new Error(`${bundle.name}: ${path} needs glibc ${glibc}; Lambda's nodejs24.x (Amazon Linux 2023) has ${TARGET_GLIBC}`);
    native.push({ path, needs_glibc: glibc, needs_glibcxx: highestVersion(versions, 'GLIBCXX') });
  }
  return {
    name: bundle.name,
    dir,
    bundle_bytes: bundle.bytes,
    externals: bundle.externals,
    static_externals: bundle.staticExternals,
    packages: packages.map((p) => artifactPath(root, p.dir).replace(/^node_modules\//, '')),
    shared_libraries: [...copied.keys()].sort(),
    native,
  };
}
