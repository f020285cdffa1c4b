import { existsSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { StoreError } from '../errors.ts';
import type { FirstWrite, ObjectStore, PutOptions, PutResult, Retention } from './object-store.ts';

/**
 * An ObjectStore on a local directory: one file per key, no versions. A retention asked for is
 * kept in a `<file>.retention` note and makes remove and overwrite fail, so code that relies
 * on write-once behaves the same here; it is no protection against the file system. It serves
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

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<PutResult> {
    return this.writeWhole(key, options, (temporary) => writeFile(temporary, body));
  }

  /**
   * Writes an object whole or not at all, as an S3 PUT does: into a temporary file beside the key
   * (never listed), renamed onto the key once complete. A write cut short (a full disk, a crash)
   * leaves no half object at the key, so a retry that finds the key finds it whole.
   */
  private async writeWhole(key: string, options: PutOptions, write: (temporary: string) => Promise<void>): Promise<PutResult> {
    const path = this.path(key);
    await this.refuseIfLocked(key, 'overwrite');
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
    try {
      await write(temporary);
      await rename(temporary, path);
    } finally {
      await rm(temporary, { force: true });
    }
    if (options.retainUntil) await writeFile(`${path}.retention`, options.retainUntil.toISOString());
    return {};
  }

  /**
   * First writer wins by a hard link of a finished temporary file onto the key (atomic, and
   * refused when the key exists), so that nobody ever reads a half-written first version.
   */
  async putIfAbsent(key: string, body: string, options: PutOptions = {}): Promise<FirstWrite> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, body);
    try {
      await link(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return { created: false, text: await readFile(path, 'utf8') };
    } finally {
      await rm(temporary, { force: true });
    }
    if (options.retainUntil) await writeFile(`${path}.retention`, options.retainUntil.toISOString());
    return { created: true, text: body };
  }

  async readFirst(key: string): Promise<string | undefined> {
    return (await this.exists(key)) ? readFile(this.path(key), 'utf8') : undefined;
  }

  async putFile(key: string, source: string, options: PutOptions = {}): Promise<PutResult> {
    return this.writeWhole(key, options, (temporary) => copyFile(source, temporary));
  }

  async modifiedAt(key: string): Promise<Date | undefined> {
    try {
      return (await stat(this.path(key))).mtime;
    } catch {
      return undefined;
    }
  }

  async versions(key: string): Promise<{ versionId: string | undefined; modifiedAt: Date }[]> {
    const at = await this.modifiedAt(key);
    return at ? [{ versionId: undefined, modifiedAt: at }] : [];
  }

  async retention(key: string, _versionId?: string): Promise<Retention | undefined> {
    try {
      return { mode: 'COMPLIANCE', retainUntil: new Date(await readFile(`${this.path(key)}.retention`, 'utf8')) };
    } catch {
      return undefined;
    }
  }

  async removeAllVersions(key: string): Promise<number> {
    const had = await this.exists(key);
    await this.remove(key);
    return had ? 1 : 0;
  }

  private async refuseIfLocked(key: string, what: string): Promise<void> {
    const lock = await this.retention(key);
    if (lock && lock.retainUntil > new Date())
      throw new StoreError(`${what} of ${key} refused: locked until ${lock.retainUntil.toISOString()}`);
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    // A store nothing was written to yet has no keys.
    if (!existsSync(this.root)) return [];
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && !e.name.endsWith('.retention') && !e.name.endsWith('.tmp'))
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix))
      .sort();
  }

  async remove(key: string): Promise<void> {
    await this.refuseIfLocked(key, 'delete');
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
