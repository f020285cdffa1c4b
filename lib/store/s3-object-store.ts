import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3ServiceException,
  type HeadObjectCommandOutput,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StoreError } from '../errors.ts';
import type { FirstWrite, ObjectStore, PutOptions, PutResult, Retention } from './object-store.ts';

/** Server-side encryption the store is asked for on every write (lib/config.ts S3_SSE, S3_SSE_KMS_KEY_ID). */
export interface StoreEncryption {
  ServerSideEncryption?: 'AES256' | 'aws:kms';
  SSEKMSKeyId?: string;
}

/** The writes' encryption as configured: none (the default) when S3_SSE is unset. */
export function storeEncryption(settings: { S3_SSE?: 'AES256' | 'aws:kms'; S3_SSE_KMS_KEY_ID?: string }): StoreEncryption {
  if (!settings.S3_SSE) return {};
  if (settings.S3_SSE === 'aws:kms') return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: settings.S3_SSE_KMS_KEY_ID };
  return { ServerSideEncryption: 'AES256' };
}

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly encryption: StoreEncryption = {},
  ) {}

  /**
   * What every write (PutObject: put, putFile, putIfAbsent; CopyObject: replay) carries besides
   * its own fields: the server-side encryption asked for, nothing when none is configured.
   * Reads carry none (a store refuses SSE headers on GET and HEAD).
   */
  private writeParams(): StoreEncryption {
    return this.encryption;
  }

  async read(key: string, versionId?: string): Promise<AsyncIterable<Uint8Array>> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
      if (!out.Body) throw new StoreError(`s3://${this.bucket}/${key} has no body`);
      return out.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      throw wrap(error, `read s3://${this.bucket}/${key}`);
    }
  }

  async readText(key: string, versionId?: string): Promise<string> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of await this.read(key, versionId)) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<PutResult> {
    return this.send(key, body, undefined, options);
  }

  async putFile(key: string, path: string, options: PutOptions = {}): Promise<PutResult> {
    // The file is opened first and read through its handle: a caller that gives up on a slow
    // put and removes the file cannot make a later open fail. (A stream opened by path fails
    // with ENOENT outside any promise, and that error ended the whole function host.)
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const body = handle.createReadStream({ autoClose: false });
      body.on('error', () => undefined); // the request reports the failure
      try {
        return await this.send(key, body, size, options);
      } finally {
        body.destroy();
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /**
   * First writer wins. AWS S3 (and an unversioned bucket on Ceph RGW) honours
   * `If-None-Match: *` and refuses a second write with 412. Ceph RGW 16 ignores it on a
   * versioned bucket (the vault) and keeps the second write as a newer version; there the
   * rule is *the oldest version stands*: each writer lists the key's versions after its own
   * write completed, so it sees every write that completed before its own, and all writers
   * agree on the oldest. A losing writer removes its own version again (a crash in between
   * leaves a later version that `readFirst` never reads).
   */
  async putIfAbsent(key: string, body: string, options: PutOptions = {}): Promise<FirstWrite> {
    let mine: PutResult;
    try {
      mine = await this.send(key, body, undefined, options, true);
    } catch (error) {
      if (!isPreconditionFailure(error)) throw error;
      const first = await this.readFirst(key);
      if (first === undefined) throw new StoreError(`write-once s3://${this.bucket}/${key}: refused as existing, yet no version is found`);
      return { created: false, text: first };
    }
    const versions = await this.versions(key);
    const oldest = versions[0];
    if (!oldest || !mine.versionId || oldest.versionId === mine.versionId) return { created: true, text: body };
    const text = await this.readText(key, oldest.versionId);
    await this.removeVersion(key, mine.versionId);
    return { created: false, text };
  }

  async readFirst(key: string): Promise<string | undefined> {
    const oldest = (await this.versions(key))[0];
    if (!oldest) return undefined;
    return this.readText(key, oldest.versionId);
  }

  private async removeVersion(key: string, versionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
    } catch (error) {
      throw wrap(error, `delete version ${versionId} of s3://${this.bucket}/${key}`);
    }
  }

  private async send(
    key: string,
    body: PutObjectCommandInput['Body'],
    length: number | undefined,
    options: PutOptions,
    ifAbsent = false,
  ): Promise<PutResult> {
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: length,
          ContentType: options.contentType,
          ...this.writeParams(),
          ...(ifAbsent ? { IfNoneMatch: '*' } : {}),
          ...(options.retainUntil ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: options.retainUntil } : {}),
        }),
      );
      const result: PutResult = {};
      if (out.VersionId) result.versionId = out.VersionId;
      if (out.ETag) result.eTag = out.ETag;
      return result;
    } catch (error) {
      if (ifAbsent && isPreconditionFailure(error)) throw error;
      throw wrap(error, `write s3://${this.bucket}/${key}`);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const item of out.Contents ?? []) if (item.Key) found.push(item.Key);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw wrap(error, `list s3://${this.bucket}/${prefix}`);
    }
    return found.sort();
  }

  async remove(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw wrap(error, `delete s3://${this.bucket}/${key}`);
    }
  }

  async modifiedAt(key: string): Promise<Date | undefined> {
    const head = await this.head(key);
    return head?.LastModified ? new Date(head.LastModified) : undefined;
  }

  async versions(key: string): Promise<{ versionId: string | undefined; modifiedAt: Date }[]> {
    const found = (await this.listVersionEntries(key))
      .filter((v) => !v.deleteMarker && v.modifiedAt)
      .map((v) => ({ versionId: v.versionId, modifiedAt: v.modifiedAt! }));
    // The store lists a key's versions newest first, and LastModified has whole seconds: reversing
    // first keeps two versions of the same second in their true order through the stable sort.
    return found.reverse().sort((a, b) => a.modifiedAt.getTime() - b.modifiedAt.getTime());
  }

  /** Every version and delete marker of exactly this key, as the store lists them (newest first), all pages. */
  private async listVersionEntries(
    key: string,
  ): Promise<{ versionId: string | undefined; modifiedAt: Date | undefined; deleteMarker: boolean }[]> {
    const found: { versionId: string | undefined; modifiedAt: Date | undefined; deleteMarker: boolean }[] = [];
    try {
      let keyMarker: string | undefined;
      let versionMarker: string | undefined;
      do {
        const out = await this.client.send(
          new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
        );
        const entry = (deleteMarker: boolean) => (v: { Key?: string; VersionId?: string; LastModified?: Date }) =>
          v.Key === key
            ? [{ versionId: v.VersionId, modifiedAt: v.LastModified ? new Date(v.LastModified) : undefined, deleteMarker }]
            : [];
        found.push(...(out.Versions ?? []).flatMap(entry(false)), ...(out.DeleteMarkers ?? []).flatMap(entry(true)));
        keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
        versionMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
      } while (keyMarker);
    } catch (error) {
      throw wrap(error, `list versions of s3://${this.bucket}/${key}`);
    }
    return found;
  }

  async retention(key: string, versionId?: string): Promise<Retention | undefined> {
    try {
      const out = await this.client.send(new GetObjectRetentionCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
      const { Mode, RetainUntilDate } = out.Retention ?? {};
      return Mode && RetainUntilDate ? { mode: Mode, retainUntil: new Date(RetainUntilDate) } : undefined;
    } catch (error) {
      // No retention configured on the object is an error answer, not an empty one.
      if (error instanceof S3ServiceException && [400, 404].includes(error.$metadata.httpStatusCode ?? 0)) return undefined;
      throw wrap(error, `retention of s3://${this.bucket}/${key}`);
    }
  }

  async removeAllVersions(key: string): Promise<number> {
    let removed = 0;
    for (const v of await this.listVersionEntries(key)) {
      if (!v.versionId) continue;
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: v.versionId }));
      } catch (error) {
        throw wrap(error, `delete every version of s3://${this.bucket}/${key}`);
      }
      removed += 1;
    }
    return removed;
  }

  async replay(key: string, versionId?: string): Promise<PutResult> {
    const source = `${this.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}${versionId ? `?versionId=${encodeURIComponent(versionId)}` : ''}`;
    try {
      const out = await this.client.send(
        // S3 refuses a copy onto itself that changes nothing, so the replay is stamped in the metadata.
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: source,
          MetadataDirective: 'REPLACE',
          Metadata: { 'vaultmend-replayed-at': new Date().toISOString() },
          ...this.writeParams(),
        }),
      );
      const result: PutResult = {};
      if (out.VersionId) result.versionId = out.VersionId;
      return result;
    } catch (error) {
      // Ceph RGW 16 does not copy an SSE-KMS object (501 NotImplemented): write its bytes again instead.
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 501) return this.rewrite(key, versionId);
      throw wrap(error, `replay s3://${this.bucket}/${key}`);
    }
  }

  /** A replay by reading the version and writing its bytes again, streamed (for a store that cannot copy the object). */
  private async rewrite(key: string, versionId?: string): Promise<PutResult> {
    let body: Readable | undefined;
    try {
      const got = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
      );
      body = got.Body as Readable;
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: got.ContentLength,
          ...(got.ContentType ? { ContentType: got.ContentType } : {}),
          Metadata: { 'vaultmend-replayed-at': new Date().toISOString() },
          ...this.writeParams(),
        }),
      );
      return out.VersionId ? { versionId: out.VersionId } : {};
    } catch (error) {
      throw wrap(error, `replay (rewrite) s3://${this.bucket}/${key}`);
    } finally {
      // A PUT that failed leaves the GET's socket checked out of the pool unless its body is let go.
      body?.destroy();
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  /** The object's HEAD, or undefined when there is none. */
  private async head(key: string): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return undefined;
      throw wrap(error, `head s3://${this.bucket}/${key}`);
    }
  }
}

/** 412: the object exists (If-None-Match); 409: AWS's answer to a conditional write racing another. */
function isPreconditionFailure(error: unknown): boolean {
  return error instanceof S3ServiceException && [409, 412].includes(error.$metadata.httpStatusCode ?? 0);
}

function wrap(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StoreError(`${what} failed: ${message}`, { cause: error });
}
