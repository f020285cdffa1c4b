import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../store/object-store.ts';

/**
 * Per-record data keys for the PII in the write-once audit: one 256-bit key per (stream,
 * record), the record named by its primary-key hash. The keys live outside the locked objects,
 * in a store they can be deleted from: here a key prefix of the vault (`keystore/`), in
 * production a KMS behind the same interface. Destroying a record's key makes its values in
 * the audit unreadable for good (crypto-shredding) while the audit itself stays intact.
 */
export interface DataKeyStore {
  /** The record's key, made on first use. */
  keyFor(stream: string, record: string): Promise<Buffer>;
  /** The record's key, or undefined once destroyed (or never made). */
  existing(stream: string, record: string): Promise<Buffer | undefined>;
  /** Destroys the record's key, every stored version of it; true when there was one. */
  destroy(stream: string, record: string): Promise<boolean>;
}

const RECORD = /^[0-9a-f]{64}$/;

export class VaultKeyStore implements DataKeyStore {
  constructor(private readonly store: ObjectStore) {}

  private key(stream: string, record: string): string {
    if (!RECORD.test(record)) throw new Error(`a record is named by its 64-hex primary-key hash, got ${JSON.stringify(record.slice(0, 80))}`);
    return `keystore/${stream}/${record}.key`;
  }

  async keyFor(stream: string, record: string): Promise<Buffer> {
    const found = await this.existing(stream, record);
    if (found) return found;
    const fresh = randomBytes(32);
    await this.store.put(this.key(stream, record), fresh.toString('base64'), { contentType: 'text/plain' });
    return fresh;
  }

  async existing(stream: string, record: string): Promise<Buffer | undefined> {
    const key = this.key(stream, record);
    if (!(await this.store.exists(key))) return undefined;
    return Buffer.from((await this.store.readText(key)).trim(), 'base64');
  }

  async destroy(stream: string, record: string): Promise<boolean> {
    return (await this.store.removeAllVersions(this.key(stream, record))) > 0;
  }
}
