import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** One file of a zip archive. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of its local header. */
  offset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * The entries of a zip archive, from its central directory (no zip64: Lambda artifacts are far
 * below 4 GiB and 65,535 files). Enough to check and unpack what `osls package` writes, without
 * an unzip tool on the machine.
 */
export function zipEntries(zip: Buffer): ZipEntry[] {
  let end = -1;
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === EOCD) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL) throw new Error(`bad central directory entry ${i}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      offset: zip.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The bytes of one entry (stored or deflated). */
export function zipEntryData(zip: Buffer, entry: ZipEntry): Buffer {
  if (zip.readUInt32LE(entry.offset) !== LOCAL) throw new Error(`${entry.name}: bad local header`);
  const start = entry.offset + 30 + zip.readUInt16LE(entry.offset + 26) + zip.readUInt16LE(entry.offset + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  const data = entry.method === 0 ? raw : entry.method === 8 ? inflateRawSync(raw) : undefined;
  if (!data) throw new Error(`${entry.name}: compression method ${entry.method} is not supported`);
  if (data.length !== entry.size) throw new Error(`${entry.name}: ${data.length} bytes, the directory says ${entry.size}`);
  return data;
}

/** Unpacks a zip archive into `dir`; an entry that would land outside it is refused. */
export function unzipTo(zipPath: string, dir: string): ZipEntry[] {
  const zip = readFileSync(zipPath);
  const entries = zipEntries(zip);
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    const path = normalize(join(dir, entry.name));
    if (!path.startsWith(normalize(dir) + sep)) throw new Error(`${entry.name}: outside the archive's folder`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, zipEntryData(zip, entry));
  }
  return entries;
}
