import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

/**
 * AES-256-GCM for one PII value in the audit, under its record's data key. The IV is derived
 * from the key and the value's place (batch, row, column, old/new), unique per key, so the
 * same audit line encrypts to the same bytes on a re-run (the audit must be reproducible);
 * the price is that equal values in the same place would look equal, and a place is used once.
 */
export interface SealedValue {
  alg: 'aes-256-gcm';
  /** The record (primary-key hash) whose data key seals it. */
  record: string;
  iv: string;
  data: string;
  tag: string;
}

interface Subkeys {
  ivKey: KeyObject;
  encKey: KeyObject;
  /** The bytes they were derived from (a Buffer changed in place derives anew). */
  from: Buffer;
}

/**
 * The subkeys of each data key seen, by the key's Buffer: a batch seals a record's old and new
 * value (and several cells of it) under one key, and deriving is the costly part of sealing.
 * Key objects, not Buffers, go to node:crypto: it checks a Buffer key anew on every call.
 */
const derived = new WeakMap<Buffer, Subkeys>();

/** Separate subkeys for the IV derivation and the cipher, from the record's data key. */
function subkeys(key: Buffer): Subkeys {
  const known = derived.get(key);
  if (known?.from.equals(key)) return known;
  const secret = createSecretKey(key);
  const derive = (info: string) => createSecretKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32)));
  const made = { ivKey: derive('vaultmend-audit-iv'), encKey: derive('vaultmend-audit-enc'), from: Buffer.from(key) };
  derived.set(key, made);
  return made;
}

export function seal(key: Buffer, record: string, place: string, value: string | null): SealedValue {
  const { ivKey, encKey } = subkeys(key);
  const iv = createHmac('sha256', ivKey).update(place).digest().subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', encKey, iv);
  cipher.setAAD(Buffer.from(place));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return {
    alg: 'aes-256-gcm',
    record,
    iv: iv.toString('base64'),
    data: data.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

export function open(key: Buffer, place: string, sealed: SealedValue): string | null {
  const decipher = createDecipheriv('aes-256-gcm', subkeys(key).encKey, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(Buffer.from(place));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  return JSON.parse(text) as string | null;
}

export function isSealed(value: unknown): value is SealedValue {
  return typeof value === 'object' && value !== null && (value as { alg?: unknown }).alg === 'aes-256-gcm';
}
