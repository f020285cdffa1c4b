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
  /** The records' keys, made on first use (one call for a batch's records). */
  keysFor(stream: string, records: string[]): Promise<Map<string, Buffer>>;
  /** The record's key, or undefined once destroyed (or never made). */
  existing(stream: string, record: string): Promise<Buffer | undefined>;
  /** Destroys the record's key, every stored version of it; true when there was one. */
  destroy(stream: string, record: string): Promise<boolean>;
}

const RECORD = /^[0-9a-f]{64}$/;
/** Wait between writing new keys and reading them back (longer than a racing invocation's check-then-write). */
const SETTLE_MS = 300;

export class VaultKeyStore implements DataKeyStore {
  constructor(private readonly store: ObjectStore) {}

  private key(stream: string, record: string): string {
    if (!RECORD.test(record))
      throw new Error(`a record is named by its 64-hex primary-key hash, got ${JSON.stringify(record.slice(0, 80))}`);
    return `keystore/${stream}/${record}.key`;
  }

  /**
   * Keys that exist are read; missing ones are written with fresh random bytes, and then read
   * back after a short settle. Two reconcile invocations racing on one batch may both write a
   * new key for the same record; the store keeps the last write, and reading back after both
   * writes makes both invocations seal with that one, so they write the same audit bytes.
   */
  async keysFor(stream: string, records: string[]): Promise<Map<string, Buffer>> {
    const unique = [...new Set(records)];
    const found = await Promise.all(unique.map(async (record) => [record, await this.existing(stream, record)] as const));
    const missing = found.filter(([, key]) => key === undefined).map(([record]) => record);
    const keys = new Map(found.filter((f): f is readonly [string, Buffer] => f[1] !== undefined));
    if (missing.length === 0) return keys;
    await Promise.all(
      missing.map((record) => this.store.put(this.key(stream, record), randomBytes(32).toString('base64'), { contentType: 'text/plain' })),
    );
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    for (const record of missing) {
      const key = await this.existing(stream, record);
      if (!key) throw new Error(`the data key of record ${record} vanished right after it was written`);
      keys.set(record, key);
    }
    return keys;
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
