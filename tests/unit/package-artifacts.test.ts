import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { handlerParts } from '../../infra/package/artifact-probe.ts';
import { bundleFunctions, handlerModule, outputNeeds, packageName, type FunctionBundle } from '../../infra/package/bundle.ts';
import { entryProblems, LAMBDA_UNZIPPED_LIMIT } from '../../infra/package/check-artifacts.ts';
import { compareVersions, highestVersion, readElf } from '../../infra/package/elf.ts';
import VaultmendPackagePlugin from '../../infra/package/osls-plugin.ts';
import { findPackageDir, runtimePackages } from '../../infra/package/runtime-files.ts';
import { hostTarget, targetOf } from '../../infra/package/target.ts';
import { unzipTo, zipEntries, zipEntryData, type ZipEntry } from '../../infra/package/zip-read.ts';

const yml = parse(readFileSync('serverless.yml', 'utf8')) as {
  provider: { architecture?: string };
  package?: { individually?: boolean; patterns?: string[] };
  plugins: string[];
  functions: Record<string, { handler: string; package?: unknown }>;
};
const handlers = Object.fromEntries(Object.entries(yml.functions).map(([name, fn]) => [name, fn.handler]));
const x64 = targetOf('x86_64');

/** A zip archive made by hand (local headers, central directory, end record), stored or deflated. */
function makeZip(files: Array<{ name: string; data: Buffer; deflate: boolean }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const body = f.deflate ? deflateRawSync(f.data) : f.data;
    const name = Buffer.from(f.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(f.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc32(f.data), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(f.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc32(f.data), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const entry = (name: string, size = 10): ZipEntry => ({ name, method: 8, compressedSize: size, size, offset: 0 });

describe('packaging the functions for Lambda (osls package)', () => {
  it('is wired into serverless.yml: the plugin, one artifact per function, patterns; no function names its own artifact', () => {
    expect(yml.plugins).toContain('./infra/package/osls-plugin.ts');
    expect(yml.plugins).toContain('serverless-offline');
    expect(yml.package?.individually).toBe(true);
    expect(yml.package?.patterns).toEqual(expect.arrayContaining(['!**/*.ts', '!**/*.map']));
    expect(yml.provider.architecture).toBe('x86_64');
    for (const fn of Object.values(yml.functions)) expect(fn.package).toBeUndefined();
  });

  it('hooks only the packaging steps (serverless-offline and invoke local keep loading the .ts handlers)', () => {
    const plugin = new VaultmendPackagePlugin(
      { serviceDir: '.', service: { provider: {}, getAllFunctions: () => [], getFunction: () => ({}) }, pluginManager: { plugins: [] } },
      {},
    );
    expect(Object.keys(plugin.hooks).sort()).toEqual(['before:package:createDeploymentArtifacts', 'before:package:function:package']);
  });

  it('refuses to package for another architecture than the machine it runs on', async () => {
    const other = hostTarget()?.arch === 'x64' ? 'arm64' : 'x86_64';
    const plugin = new VaultmendPackagePlugin(
      {
        serviceDir: '.',
        service: {
          provider: { architecture: other },
          getAllFunctions: () => ['ingest'],
          getFunction: () => ({ handler: 'functions/ingest.handler' }),
        },
        pluginManager: { plugins: [] },
      },
      {},
    );
    await expect(plugin.hooks['before:package:createDeploymentArtifacts']!()).rejects.toThrow(/package on a linux/);
  });

  it('names targets as Lambda, Node and ELF do', () => {
    expect(targetOf(undefined)).toEqual({ architecture: 'x86_64', arch: 'x64', elfMachine: 62 });
    expect(targetOf('arm64')).toEqual({ architecture: 'arm64', arch: 'arm64', elfMachine: 183 });
    expect(() => targetOf('mips')).toThrow(/not x86_64 or arm64/);
  });

  it('reads handlers and package names', () => {
    expect(handlerModule('functions/ingest.handler')).toBe('functions/ingest');
    expect(handlerParts('functions/ingest.handler')).toEqual(['functions/ingest.js', 'handler']);
    expect(() => handlerModule('handler')).toThrow(/not <file>.<export>/);
    expect(packageName('@duckdb/node-api')).toBe('@duckdb/node-api');
    expect(packageName('@aws-sdk/client-s3/dist-es/index.js')).toBe('@aws-sdk/client-s3');
    expect(packageName('faiss-node')).toBe('faiss-node');
  });

  it("tells an output's external packages (static or at first use) and companions from esbuild's metafile", () => {
    const metafile = {
      inputs: {},
      outputs: {
        'out/functions/remediate.js': {
          bytes: 1,
          entryPoint: 'functions/remediate.ts',
          inputs: { 'lib/remediate/sandbox.ts': { bytesInOutput: 1 }, 'functions/remediate.ts': { bytesInOutput: 1 } },
          exports: ['handler'],
          imports: [
            { path: 'node:fs', kind: 'import-statement' as const, external: true },
            { path: '@duckdb/node-api', kind: 'import-statement' as const, external: true },
            { path: 'faiss-node', kind: 'dynamic-import' as const, external: true },
            { path: 'lib/x.ts', kind: 'import-statement' as const },
          ],
        },
      },
    };
    expect(outputNeeds(metafile, '/r/out', '/r', 'functions/remediate')).toEqual({
      externals: ['@duckdb/node-api', 'faiss-node'],
      staticExternals: ['@duckdb/node-api'],
      companions: ['functions/sandbox-process'],
    });
  });

  it('reads ELF machines, needed libraries and symbol versions of the real addons', () => {
    const root = 'node_modules/isolated-vm/prebuilds';
    const abi = process.versions.modules;
    const amd = readElf(`${root}/linux-x64/isolated-vm.abi${abi}.glibc.node`);
    expect(amd.machine).toBe(62);
    expect(amd.needed).toContain('libstdc++.so.6');
    expect(highestVersion(amd.versions, 'GLIBC')).toBe('2.34');
    expect(highestVersion(amd.versions, 'GLIBCXX')).toBe('3.4.30');
    expect(readElf(`${root}/linux-arm64/isolated-vm.abi${abi}.glibc.node`).machine).toBe(183);
    expect(compareVersions('2.9', '2.34')).toBeLessThan(0);
    expect(compareVersions('3.4.30', '3.4.30')).toBe(0);
    expect(highestVersion(['GLIBC_2.2.5', 'GLIBC_2.14', 'GLIBC_PRIVATE', 'GLIBCXX_3.4'], 'GLIBC')).toBe('2.14');
  });

  it("finds a package's run-time closure as Node would, with only the target's binaries", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-closure-'));
    try {
      const pkg = (at: string, manifest: object, files: Record<string, string> = {}) => {
        mkdirSync(at, { recursive: true });
        writeFileSync(join(at, 'package.json'), JSON.stringify(manifest));
        for (const [f, text] of Object.entries(files)) {
          mkdirSync(join(at, f, '..'), { recursive: true });
          writeFileSync(join(at, f), text);
        }
      };
      pkg(
        join(dir, 'node_modules/a'),
        { name: 'a', dependencies: { b: '1' }, optionalDependencies: { 'a-linux': '1', 'a-darwin': '1' } },
        { 'index.js': '' },
      );
      pkg(join(dir, 'node_modules/a/node_modules/b'), { name: 'b', dependencies: { c: '1' } }, { 'index.js': '' });
      pkg(join(dir, 'node_modules/c'), { name: 'c' }, { 'lib/c.js': '', 'test/c.test.js': '' });
      pkg(join(dir, 'node_modules/a-linux'), { name: 'a-linux' }, { 'a.node': '' });
      const found = runtimePackages(dir, ['a'], x64).map((p) => [p.name, p.dir.slice(dir.length + 1), p.files]);
      expect(found).toEqual([
        ['a', 'node_modules/a', ['index.js', 'package.json']],
        ['a-linux', 'node_modules/a-linux', ['a.node', 'package.json']],
        ['b', 'node_modules/a/node_modules/b', ['index.js', 'package.json']],
        ['c', 'node_modules/c', ['lib/c.js', 'package.json', 'test/c.test.js']],
      ]);
      expect(findPackageDir('c', join(dir, 'node_modules/a/node_modules/b'), dir)).toBe(join(dir, 'node_modules/c'));
      pkg(join(dir, 'node_modules/d'), { name: 'd', dependencies: { missing: '1' } });
      expect(() => runtimePackages(dir, ['d'], x64)).toThrow(/missing .* is not installed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ships only this target's binaries and the run-time dependencies of the native packages", () => {
    const ivm = runtimePackages('.', ['isolated-vm'], x64);
    const files = ivm.find((p) => p.name === 'isolated-vm')!.files;
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([`prebuilds/linux-x64/isolated-vm.abi${process.versions.modules}.glibc.node`]);
    expect(files.some((f) => f.endsWith('.tgz') || f.startsWith('src/'))).toBe(false);
    expect(ivm.map((p) => p.name)).toEqual(['isolated-vm', 'node-gyp-build']);
    // faiss-node's install-time dependencies (prebuild-install, node-addon-api) stay out.
    expect(runtimePackages('.', ['faiss-node'], x64).map((p) => p.name)).toEqual(['bindings', 'faiss-node', 'file-uri-to-path']);
    // transformers.js without onnxruntime-web (inlined in its Node build) and with onnxruntime-node's CPU binding for this target only.
    const hf = runtimePackages('.', ['@huggingface/transformers'], x64);
    expect(hf.map((p) => p.name)).not.toContain('onnxruntime-web');
    const ort = hf.find((p) => p.name === 'onnxruntime-node')!.files;
    expect(ort.filter((f) => f.startsWith('bin/')).every((f) => f.startsWith('bin/napi-v6/linux/x64/'))).toBe(true);
  });

  it('finds what is wrong in an artifact: no handler, sources, tests, dev dependencies, over the limit', () => {
    const fn = { handler: 'functions/ingest.handler' };
    const good = [entry('functions/ingest.js'), entry('package.json'), entry('node_modules/@duckdb/node-api/package.json')];
    expect(entryProblems(fn, good, ['vitest'])).toEqual([]);
    expect(entryProblems(fn, [entry('package.json')], [])).toEqual(["no functions/ingest.js (the handler's bundle)"]);
    expect(
      entryProblems(
        fn,
        [...good, entry('lib/config.ts'), entry('tests/unit/a.test.js'), entry('node_modules/vitest/index.js'), entry('x.d.ts')],
        ['vitest'],
      ),
    ).toEqual([
      'TypeScript source lib/config.ts',
      'test file tests/unit/a.test.js',
      'dev dependency vitest (node_modules/vitest/index.js)',
    ]);
    expect(entryProblems(fn, [...good, entry('big.so', LAMBDA_UNZIPPED_LIMIT)], [])[0]).toMatch(/over Lambda's limit/);
  });

  it('reads and unpacks zip archives (stored and deflated), refusing entries outside the folder', () => {
    const zip = makeZip([
      { name: 'functions/a.js', data: Buffer.from('export const handler = 1;\n'.repeat(50)), deflate: true },
      { name: 'package.json', data: Buffer.from('{"type":"module"}'), deflate: false },
    ]);
    const entries = zipEntries(zip);
    expect(entries.map((e) => [e.name, e.method, e.size])).toEqual([
      ['functions/a.js', 8, 1300],
      ['package.json', 0, 17],
    ]);
    expect(zipEntryData(zip, entries[1]!).toString()).toBe('{"type":"module"}');
    const dir = mkdtempSync(join(tmpdir(), 'vaultmend-zip-'));
    try {
      writeFileSync(join(dir, 'a.zip'), zip);
      unzipTo(join(dir, 'a.zip'), join(dir, 'out'));
      expect(readFileSync(join(dir, 'out/functions/a.js'), 'utf8')).toContain('export const handler');
      writeFileSync(join(dir, 'evil.zip'), makeZip([{ name: '../escape.txt', data: Buffer.from('x'), deflate: false }]));
      expect(() => unzipTo(join(dir, 'evil.zip'), join(dir, 'out'))).toThrow(/outside the archive's folder/);
      expect(() => zipEntries(Buffer.from('not a zip at all, not at all, no'))).toThrow(/not a zip/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the bundles', () => {
    let dir: string;
    let bundles: FunctionBundle[];
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vaultmend-bundle-'));
      bundles = await bundleFunctions(process.cwd(), join(dir, 'out'), handlers);
    }, 60_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('one per function, at the handler path Lambda loads; the sandbox process beside the functions that use it', () => {
      expect(bundles.map((b) => b.name).sort()).toEqual(Object.keys(handlers).sort());
      for (const b of bundles) expect(b.files[0]).toBe(`${handlerModule(handlers[b.name]!)}.js`);
      const withSandbox = bundles.filter((b) => b.files.includes('functions/sandbox-process.js')).map((b) => b.name);
      expect(withSandbox.sort()).toEqual(['remediate', 'review']);
    });

    it('load no embedding model, vector index or sandbox isolate when a function starts: those are loaded at first use', () => {
      for (const b of bundles) {
        for (const heavy of ['@huggingface/transformers', 'faiss-node', 'isolated-vm'])
          expect(b.staticExternals, `${b.name} loads ${heavy} at start`).not.toContain(heavy);
        expect(
          b.staticExternals.every((e) => e === '@duckdb/node-api'),
          `${b.name}: ${b.staticExternals}`,
        ).toBe(true);
      }
      const ingest = bundles.find((b) => b.name === 'ingest')!;
      expect(ingest.externals).toEqual(['@duckdb/node-api']);
      const cluster = bundles.find((b) => b.name === 'cluster')!;
      expect(cluster.externals).toEqual(['@duckdb/node-api', '@huggingface/transformers', 'faiss-node']);
      expect(bundles.find((b) => b.name === 'remediate')!.externals).toContain('isolated-vm');
      expect(bundles.find((b) => b.name === 'sweep')!.externals).toEqual([]);
    });
  });
});
