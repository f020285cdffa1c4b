import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StoreError } from '../errors.ts';
import type { ObjectStore, PutOptions, PutResult } from './object-store.ts';

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

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
    const { size } = await stat(path);
    return this.send(key, createReadStream(path), size, options);
  }

  private async send(key: string, body: PutObjectCommandInput['Body'], length: number | undefined, options: PutOptions): Promise<PutResult> {
    try {
      const out = await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: length, ContentType: options.contentType }),
      );
      const result: PutResult = {};
      if (out.VersionId) result.versionId = out.VersionId;
      if (out.ETag) result.eTag = out.ETag;
      return result;
    } catch (error) {
      throw wrap(error, `write s3://${this.bucket}/${key}`);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
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
        }),
      );
      const result: PutResult = {};
      if (out.VersionId) result.versionId = out.VersionId;
      return result;
    } catch (error) {
      throw wrap(error, `replay s3://${this.bucket}/${key}`);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
      throw wrap(error, `head s3://${this.bucket}/${key}`);
    }
  }
}

function wrap(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StoreError(`${what} failed: ${message}`, { cause: error });
}
