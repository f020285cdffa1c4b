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
/** Store calls in flight at once for a batch's keys (the S3 client's socket pool holds 32). */
const IN_FLIGHT = 32;

/**
 * A key written first-writer-wins carries this mark before its base64 text. Keys written before
 * (by a check, a write and a read back after a settle) have none: when a race left such a key
 * several versions, both racers had sealed with the latest, so that one is read for them.
 */
const FIRST_WRITE = 'fw1:';

/** A stored key's bytes (kept as base64 text, marked or not). */
const decoded = (text: string) => Buffer.from(text.trim().replace(FIRST_WRITE, ''), 'base64');

export class VaultKeyStore implements DataKeyStore {
  constructor(private readonly store: ObjectStore) {}

  private key(stream: string, record: string): string {
    if (!RECORD.test(record))
      throw new Error(`a record is named by its 64-hex primary-key hash, got ${JSON.stringify(record.slice(0, 80))}`);
    return `keystore/${stream}/${record}.key`;
  }

  /**
   * Each record's key is its first write (first writer wins, `putIfAbsent`): a key that exists is
   * read at its first version (see existing); a missing one is written with fresh random bytes unless another
   * invocation wrote it first, whose key is then the one returned. Two reconciles racing on one
   * record (the same key in two batches, or a takeover) therefore seal with the same key, and no
   * key a sealed audit line needs is ever replaced. The records go side by side (IN_FLIGHT at a
   * time): a batch's thousands of records cost rounds of parallel calls, not round trips in a row.
   */
  async keysFor(stream: string, records: string[], onKey?: (record: string, key: Buffer) => void): Promise<Map<string, Buffer>> {
    const keys = new Map<string, Buffer>();
    await mapBounded([...new Set(records)], IN_FLIGHT, async (record) => {
      const key = (await this.existing(stream, record)) ?? (await this.created(stream, record));
      keys.set(record, key);
      onKey?.(record, key);
    });
    return keys;
  }

  /** A new record's key: fresh bytes written first-writer-wins; a racer's key when it wrote first. */
  private async created(stream: string, record: string): Promise<Buffer> {
    const written = await this.store.putIfAbsent(this.key(stream, record), `${FIRST_WRITE}${randomBytes(32).toString('base64')}`, {
      contentType: 'text/plain',
    });
    return decoded(written.text);
  }

  /**
   * The key a record's audit lines are sealed with: its first version when that was written
   * first-writer-wins (a later version is a racer's, about to be removed), the latest of a key
   * written before that (see FIRST_WRITE).
   */
  async existing(stream: string, record: string): Promise<Buffer | undefined> {
    const key = this.key(stream, record);
    // A HEAD first: most records of a batch are new, and it is cheaper than listing the versions.
    if (!(await this.store.exists(key))) return undefined;
    const versions = await this.store.versions(key);
    const [first, last] = [versions[0], versions.at(-1)];
    if (!first || !last) return undefined;
    const text = await this.store.readText(key, first.versionId);
    if (versions.length === 1 || text.startsWith(FIRST_WRITE)) return decoded(text);
    return decoded(await this.store.readText(key, last.versionId));
  }

  async destroy(stream: string, record: string): Promise<boolean> {
    return (await this.store.removeAllVersions(this.key(stream, record))) > 0;
  }
}
