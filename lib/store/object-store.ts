/**
 * What the domain needs from an object store. `S3ObjectStore` is the real one; keeping the
 * domain on this interface keeps S3 types out of it.
 */
export interface PutOptions {
  contentType?: string;
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
  exists(key: string): Promise<boolean>;
}
