/**
 * What the domain needs from an object store. `S3ObjectStore` is the real one; keeping the
 * domain on this interface keeps S3 types out of it.
 */
export interface PutOptions {
  contentType?: string;
  /** Write-once: the version is locked in COMPLIANCE mode until then (the store refuses deletion and overwrite). */
  retainUntil?: Date;
}

export interface Retention {
  mode: string;
  retainUntil: Date;
}

export interface PutResult {
  versionId?: string;
  eTag?: string;
}

/** What a first-writer-wins write found: whether this write was the first, and the first writer's text. */
export interface FirstWrite {
  /** True when this call's body is the one that stands. */
  created: boolean;
  /** The text of the object that stands (this call's body, or the earlier writer's). */
  text: string;
}

export interface ObjectStore {
  /** The object's bytes as a stream of chunks (a specific version when given). */
  read(key: string, versionId?: string): Promise<AsyncIterable<Uint8Array>>;
  readText(key: string, versionId?: string): Promise<string>;
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<PutResult>;
  /**
   * Writes the object only if none exists yet (first writer wins), race-free: two callers
   * racing on one key both learn the same winner. Objects written this way must be read
   * with `readFirst` (see the S3 store for stores that keep losing writes as later versions).
   */
  putIfAbsent(key: string, body: string, options?: PutOptions): Promise<FirstWrite>;
  /** The text of the first-written version of a key (what `putIfAbsent` made stand), or undefined when there is none. */
  readFirst(key: string): Promise<string | undefined>;
  /** Uploads a local file (streamed, not read into memory). */
  putFile(key: string, path: string, options?: PutOptions): Promise<PutResult>;
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix, in key order. */
  list(prefix: string): Promise<string[]>;
  /** Removes the current version (a versioned bucket keeps the history). */
  remove(key: string): Promise<void>;
  /** When the current version was written, or undefined when there is no object. */
  modifiedAt(key: string): Promise<Date | undefined>;
  /** The Object Lock retention of a version (the current one by default), if any. */
  retention(key: string, versionId?: string): Promise<Retention | undefined>;
  /** Every version of an object, oldest first (a store without versions: the one it has). */
  versions(key: string): Promise<{ versionId: string | undefined; modifiedAt: Date }[]>;
  /** Deletes every version of an object (crypto-shredding must leave no old version behind); the count removed. */
  removeAllVersions(key: string): Promise<number>;
  /** Writes a version of an object again as a new version of the same key, which notifies the flow again. */
  replay(key: string, versionId?: string): Promise<PutResult>;
}
