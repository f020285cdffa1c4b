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

export interface ObjectStore {
  /** The object's bytes as a stream of chunks (a specific version when given). */
  read(key: string, versionId?: string): Promise<AsyncIterable<Uint8Array>>;
  readText(key: string, versionId?: string): Promise<string>;
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<PutResult>;
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
