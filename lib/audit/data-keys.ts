import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../store/object-store.ts';
import { mapBounded } from './map-bounded.ts';

/**
 * Per-record data keys for the PII in the write-once audit: one 256-bit key per (stream,
 * record), the record named by its primary-key hash. The keys live outside the locked objects,
 * in a store they can be deleted from: here a key prefix of the vault (`keystore/`), in
 * production a KMS behind the same interface. Destroying a record's key makes its values in
 * the audit unreadable for good (crypto-shredding) while the audit itself stays intact.
 */
export interface DataKeyStore {
  /**
   * The records' keys, made on first use (one call for a batch's records). `onKey`, when given,
   * sees each record's key as soon as it is final, so the caller can use it while the rest are
   * still on their way (the keys are mostly waiting on the store).
   */
  keysFor(stream: string, records: string[], onKey?: (record: string, key: Buffer) => void): Promise<Map<string, Buffer>>;
  /** The record's key, or undefined once destroyed (or never made). */
  existing(stream: string, record: string): Promise<Buffer | undefined>;
  /** Destroys the record's key, every stored version of it; true when there was one. */
  destroy(stream: string, record: string): Promise<boolean>;
}

const RECORD = /^[0-9a-f]{64}$/;
/** Wait between writing new keys and reading them back (longer than a racing invocation's check-then-write). */
const SETTLE_MS = 300;
/** Store calls in flight at once for a batch's keys (the S3 client's socket pool holds 32). */
const IN_FLIGHT = 32;

/** A stored key's bytes (kept as base64 text). */
const decoded = (text: string) => Buffer.from(text.trim(), 'base64');

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
   * The records go side by side (IN_FLIGHT at a time), so a batch's thousands of records cost
   * two rounds of parallel calls, not thousands of round trips in a row: a new record is one
   * existence check and, right after it (so a racer's check-then-write stays well within the
   * settle), one write; then, after the settle, one read.
   */
  async keysFor(stream: string, records: string[], onKey?: (record: string, key: Buffer) => void): Promise<Map<string, Buffer>> {
    const unique = [...new Set(records)];
    const keys = new Map<string, Buffer>();
    const take = (record: string, key: Buffer) => {
      keys.set(record, key);
      onKey?.(record, key);
    };
    const written = await mapBounded(unique, IN_FLIGHT, async (record) => {
      const key = await this.existing(stream, record);
      if (key) {
        take(record, key);
        return false;
      }
      await this.store.put(this.key(stream, record), randomBytes(32).toString('base64'), { contentType: 'text/plain' });
      return true;
    });
    const missing = unique.filter((_, i) => written[i]);
    if (missing.length === 0) return keys;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    // Written a moment ago: read without asking first, one call a record (gone, it fails: "no object at ...").
    await mapBounded(missing, IN_FLIGHT, async (record) => take(record, decoded(await this.store.readText(this.key(stream, record)))));
    return keys;
  }

  async existing(stream: string, record: string): Promise<Buffer | undefined> {
    const key = this.key(stream, record);
    if (!(await this.store.exists(key))) return undefined;
    return decoded(await this.store.readText(key));
  }

  async destroy(stream: string, record: string): Promise<boolean> {
    return (await this.store.removeAllVersions(this.key(stream, record))) > 0;
  }
}
