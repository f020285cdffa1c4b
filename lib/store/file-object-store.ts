import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { StoreError } from '../errors.ts';
import type { ObjectStore, PutOptions, PutResult } from './object-store.ts';

/**
 * An ObjectStore on a local directory: one file per key, no versions and no locks. It serves
 * benchmarks and offline tools that must run the domain without an S3 server; everything that
 * needs versioning, Object Lock or notifications uses the S3 store.
 */
export class FileObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new StoreError(`key ${JSON.stringify(key)} escapes the store root`);
    return path;
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array>> {
    await this.mustExist(key);
    return createReadStream(this.path(key), { highWaterMark: 1 << 20 });
  }

  async readText(key: string): Promise<string> {
    await this.mustExist(key);
    return readFile(this.path(key), 'utf8');
  }

  async put(key: string, body: Uint8Array | string, _options?: PutOptions): Promise<PutResult> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    return {};
  }

  async putFile(key: string, source: string, _options?: PutOptions): Promise<PutResult> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    await copyFile(source, path);
    return {};
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix))
      .sort();
  }

  async remove(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async replay(key: string): Promise<PutResult> {
    const now = new Date();
    await utimes(this.path(key), now, now);
    return {};
  }

  private async mustExist(key: string): Promise<void> {
    if (!(await this.exists(key))) throw new StoreError(`no object at ${key}`);
  }
}
