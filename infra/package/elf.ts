import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** What an ELF shared object (a Node addon, a library) says about where it can run. */
export interface ElfInfo {
  /** e_machine: 62 x86-64, 183 AArch64. */
  machine: number;
  /** DT_NEEDED: the libraries it links against, by soname. */
  needed: string[];
  /** Symbol versions it requires (GLIBC_2.34, GLIBCXX_3.4.30, ...), from .gnu.version_r. */
  versions: string[];
}

const ELF_MAGIC = 0x464c457f; // "\x7fELF", little-endian
const SHT_DYNAMIC = 6;
const SHT_GNU_VERNEED = 0x6ffffffe;
const DT_NEEDED = 1n;

function read(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const got = readSync(fd, buffer, 0, length, offset);
  if (got !== length) throw new RangeError(`short read at ${offset}`);
  return buffer;
}

const cString = (table: Buffer, at: number) => table.toString('latin1', at, table.indexOf(0, at));

/** True when the file starts with the ELF magic. */
export function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).size < 64) return false;
    return read(fd, 0, 4).readUInt32LE(0) === ELF_MAGIC;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an ELF64 little-endian object's machine, needed libraries and required symbol versions from
 * its section headers (no external tool: objdump is not on every machine that packages).
 */
export function readElf(path: string): ElfInfo {
  const fd = openSync(path, 'r');
  try {
    const header = read(fd, 0, 64);
    if (header.readUInt32LE(0) !== ELF_MAGIC) throw new Error(`${path} is not an ELF file`);
    if (header[4] !== 2 || header[5] !== 1) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
    const machine = header.readUInt16LE(18);
    const shoff = Number(header.readBigUInt64LE(0x28));
    const shentsize = header.readUInt16LE(0x3a);
    const shnum = header.readUInt16LE(0x3c);
    const sections = Array.from({ length: shnum }, (_, i) => {
      const s = read(fd, shoff + i * shentsize, shentsize);
      return {
        type: s.readUInt32LE(4),
        offset: Number(s.readBigUInt64LE(0x18)),
        size: Number(s.readBigUInt64LE(0x20)),
        link: s.readUInt32LE(0x28),
      };
    });
    const body = (s: { offset: number; size: number }) => read(fd, s.offset, s.size);
    const needed: string[] = [];
    const versions = new Set<string>();
    for (const section of sections) {
      if (section.type === SHT_DYNAMIC) {
        const strings = body(sections[section.link]!);
        const entries = body(section);
        for (let at = 0; at + 16 <= entries.length; at += 16) {
          const tag = entries.readBigInt64LE(at);
          if (tag === 0n) break;
          if (tag === DT_NEEDED) needed.push(cString(strings, Number(entries.readBigUInt64LE(at + 8))));
        }
      } else if (section.type === SHT_GNU_VERNEED) {
        const strings = body(sections[section.link]!);
        const entries = body(section);
        // Verneed { u16 version, u16 cnt, u32 file, u32 aux, u32 next } -> Vernaux { u32 hash, u16 flags, u16 other, u32 name, u32 next }
        for (let need = 0; need < entries.length; ) {
          const count = entries.readUInt16LE(need + 2);
          let aux = need + entries.readUInt32LE(need + 8);
          for (let i = 0; i < count; i++) {
            versions.add(cString(strings, entries.readUInt32LE(aux + 8)));
            aux += entries.readUInt32LE(aux + 12);
          }
          const next = entries.readUInt32LE(need + 12);
          if (next === 0) break;
          need += next;
        }
      }
    }
    return { machine, needed, versions: [...versions].sort() };
  } finally {
    closeSync(fd);
  }
}

/** The highest version of a symbol family a set requires, e.g. highestVersion(v, 'GLIBC') -> '2.34'. */
export function highestVersion(versions: readonly string[], family: string): string | undefined {
  const prefix = `${family}_`;
  const numbers = versions
    .filter((v) => v.startsWith(prefix) && /^[\d.]+$/.test(v.slice(prefix.length)))
    .map((v) => v.slice(prefix.length));
  return numbers.sort(compareVersions).at(-1);
}

/** Compares dotted version numbers numerically (2.9 < 2.34). */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
