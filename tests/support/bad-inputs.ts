import { gzipSync } from 'node:zlib';
import type { RowCounts } from '../../lib/vault/ingest-manifest.ts';

/**
 * The bad-input corpus as code: each entry is a file (or a key, or a contract) that a source
 * system could drop into the vault, and what ingest must make of it. Every outcome is an outcome
 * (never a throw), every bad file names a reason code, and its raw bytes stay in the vault.
 * tests/unit/bad-inputs.test.ts runs each through the real ingest on a local store.
 */

/** What ingest makes of an entry: its status (keys refused before download: `refused-key`; a contract refused at registration: `contract-refused`). */
export type BadInputStatus = 'ingested' | 'quarantined' | 'waiting' | 'refused' | 'refused-key' | 'contract-refused';

export interface BadInput {
  name: string;
  stream: string;
  /** The vault key; default `raw/<stream>/<name as a slug>.<extension of the stream's format>`. */
  key?: string;
  /** The object's bytes (for a `contract` entry: the contract file's text). */
  bytes: () => Uint8Array;
  /** When set, the bytes are a contract file to register, not an object to ingest. */
  contract?: true;
  expect: {
    status: BadInputStatus;
    /** The whole-object reason (quarantined, refused, waiting), or one row reason `<column>:<rule>` of an ingested batch. */
    reason?: string;
    rows?: Partial<RowCounts>;
    /** For a refused contract: what its message must say. */
    message?: RegExp;
  };
}

/** The contracts the corpus's streams are registered with. */
export const BAD_INPUT_CONTRACTS = [
  {
    stream: 'orders',
    version: 1,
    format: { type: 'csv', delimiter: ',' },
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'name', type: 'string' },
      { name: 'qty', type: 'integer' },
      { name: 'day', type: 'date' },
    ],
  },
  {
    // No declared delimiter: the one that splits the header most.
    stream: 'sniffed',
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'name', type: 'string' },
    ],
  },
  {
    stream: 'events',
    version: 1,
    format: { type: 'jsonl' },
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'kind', type: 'string' },
    ],
  },
  {
    stream: 'pq',
    version: 1,
    format: { type: 'parquet' },
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'label', type: 'string' },
    ],
  },
] as const;

/** The file extension of each stream's files. */
export const EXTENSION: Record<string, string> = { orders: 'csv', sniffed: 'csv', events: 'jsonl', pq: 'parquet' };

const HEADER = 'id,name,qty,day';
const text = (s: string) => () => Buffer.from(s);
/** A CSV of `lines` (header first), each ended by `end`. */
const csv = (lines: string[], end = '\n') => Buffer.from(lines.map((l) => l + end).join(''));
const rows = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => `${from + i},name ${from + i},${i},2026-01-${String((i % 28) + 1).padStart(2, '0')}`);
const GOOD = [HEADER, ...rows(3)];
const goodCsv = () => csv(GOOD);
const concat = (...parts: Array<Uint8Array | string>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));

/** UTF-16 of `s` (little or big endian), with or without its byte-order mark. */
function utf16(s: string, order: 'le' | 'be', bom: boolean): Buffer {
  const le = Buffer.from((bom ? '\ufeff' : '') + s, 'utf16le');
  return order === 'le' ? le : le.swap16();
}

/** UTF-32 of an ASCII `s`, with or without its byte-order mark. */
function utf32(s: string, order: 'le' | 'be', bom: boolean): Buffer {
  const codes = [...((bom ? '\ufeff' : '') + s)].map((c) => c.codePointAt(0)!);
  const out = Buffer.alloc(codes.length * 4);
  codes.forEach((c, i) => (order === 'le' ? out.writeUInt32LE(c, i * 4) : out.writeUInt32BE(c, i * 4)));
  return out;
}

/** Deterministic pseudo-random bytes (an LCG): the same "binary file" on every run. */
function noise(n: number, seed = 7): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * A gzip bomb: a CSV header, then `mib` MiB of one letter on one line. Built as concatenated gzip
 * members (RFC 1952 allows them) of one 1 MiB block, so making it costs 1 MiB, not `mib`: it
 * expands about 1,000 times (200 MiB from about 200 KiB).
 */
function gzipBomb(mib: number): Buffer {
  const block = gzipSync(Buffer.alloc(1 << 20, 0x78), { level: 9 });
  return Buffer.concat([gzipSync(`${HEADER}\n1,`), ...Array.from({ length: mib }, () => block)]);
}

/** Tiny Parquet files written by DuckDB 1.5: `SELECT range::BIGINT AS id, 'label ' || range AS label FROM range(3)`. */
const PARQUET_GOOD =
  'UEFSMRUAFTwVLCwVBhUAFQYVBgAAHhgCAAAABgEADQERCRwCAAAAAAAAABUAFU4VRCwVBhUAFQYVBgAAJ0ACAAAABgEHAAAAbGFiZWwgMBkLLDEHAAAAbGFiZWwgMhUCGTw1ABgNZHVja2RiX3NjaGVtYRUEABUEJQIYAmlkJSQAFQwlAhgFbGFiZWwlAAAWBhkcGSwmABwVBBkVABkYAmlkFQIWBhZeFk4mCDwYCAIAAAAAAAAAGAgAAAAAAAAAABYAKAgCAAAAAAAAABgIAAAAAAAAAAAREQAAACYAHBUMGRUAGRgFbGFiZWwVAhYGFnAWZiZWPBgHbGFiZWwgMhgHbGFiZWwgMBYAKAdsYWJlbCAyGAdsYWJlbCAwEREAAAAWzgEWBiYIFrQBACgoRHVja0RCIHZlcnNpb24gdjEuNS42IChidWlsZCAwNjljYzlmOWI1KRksHAAAHAAAAAIBAABQQVIx';
/** ... and `SELECT range::VARCHAR AS id, 'label ' || range AS name, range::INTEGER AS extra FROM range(3)`: a retyped, a renamed and an added column. */
const PARQUET_WRONG_SCHEMA =
  'UEFSMRUAFSoVLiwVBhUAFQYVBgAAFVACAAAABgEBAAAAMAEAAAAxAQAAADIVABVOFUQsFQYVABUGFQYAACdAAgAAAAYBBwAAAGxhYmVsIDAZCywxBwAAAGxhYmVsIDIVABUkFSgsFQYVABUGFQYAABJEAgAAAAYBAAAAAAEAAAACAAAAFQIZTDUAGA1kdWNrZGJfc2NoZW1hFQYAFQwlAhgCaWQlAAAVDCUCGARuYW1lJQAAFQIlAhgFZXh0cmElIgAWBhkcGTwmABwVDBkVABkYAmlkFQIWBhZMFlAmCDwYATIYATAWACgBMhgBMBERAAAAJgAcFQwZFQAZGARuYW1lFQIWBhZwFmYmWDwYB2xhYmVsIDIYB2xhYmVsIDAWACgHbGFiZWwgMhgHbGFiZWwgMBERAAAAJgAcFQIZFQAZGAVleHRyYRUCFgYWRhZKJr4BPBgEAgAAABgEAAAAABYAKAQCAAAAGAQAAAAAEREAAAAWggIWBiYIFoACACgoRHVja0RCIHZlcnNpb24gdjEuNS42IChidWlsZCAwNjljYzlmOWI1KRk8HAAAHAAAHAAAADABAABQQVIx';
const parquet = (b64: string) => () => Buffer.from(b64, 'base64');

const q = (status: BadInputStatus, reason?: string): BadInput['expect'] => (reason ? { status, reason } : { status });
const clean = (n: number): BadInput['expect'] => ({ status: 'ingested', rows: { source: n, clean: n, suspect: 0, quarantined: 0 } });
const suspect = (reason: string, n: number, bad = 1): BadInput['expect'] => ({
  status: 'ingested',
  reason,
  rows: { source: n, clean: n - bad, suspect: bad },
});

const ENCODINGS: BadInput[] = [
  { name: 'UTF-8 with a BOM is accepted', stream: 'orders', bytes: () => concat('\ufeff', goodCsv()), expect: clean(3) },
  { name: 'UTF-8 with non-ASCII text', stream: 'orders', bytes: () => csv([HEADER, '1,Zoë Ångström 日本,1,2026-01-01']), expect: clean(1) },
  {
    name: 'UTF-16 LE with a BOM',
    stream: 'orders',
    bytes: () => utf16(GOOD.join('\n'), 'le', true),
    expect: q('quarantined', 'encoding-utf16'),
  },
  {
    name: 'UTF-16 BE with a BOM',
    stream: 'orders',
    bytes: () => utf16(GOOD.join('\n'), 'be', true),
    expect: q('quarantined', 'encoding-utf16'),
  },
  {
    name: 'UTF-16 LE without a BOM',
    stream: 'orders',
    bytes: () => utf16(GOOD.join('\n'), 'le', false),
    expect: q('quarantined', 'encoding-utf16'),
  },
  {
    name: 'UTF-16 BE without a BOM',
    stream: 'orders',
    bytes: () => utf16(GOOD.join('\n'), 'be', false),
    expect: q('quarantined', 'encoding-utf16'),
  },
  {
    name: 'UTF-32 LE with a BOM',
    stream: 'orders',
    bytes: () => utf32(GOOD.join('\n'), 'le', true),
    expect: q('quarantined', 'encoding-utf32'),
  },
  {
    name: 'UTF-32 BE without a BOM',
    stream: 'orders',
    bytes: () => utf32(GOOD.join('\n'), 'be', false),
    expect: q('quarantined', 'encoding-utf32'),
  },
  {
    name: 'Latin-1',
    stream: 'orders',
    bytes: () => Buffer.from(`${HEADER}\n1,Zo\xeb,1,2026-01-01\n`, 'latin1'),
    expect: q('quarantined', 'invalid-encoding'),
  },
  {
    name: 'invalid UTF-8 bytes in a field',
    stream: 'orders',
    bytes: () => concat(`${HEADER}\n1,`, Buffer.from([0xff, 0xfe, 0xc3]), ',1,2026-01-01\n'),
    expect: q('quarantined', 'invalid-encoding'),
  },
  {
    name: 'overlong UTF-8 encoding',
    stream: 'orders',
    bytes: () => concat(`${HEADER}\n1,a`, Buffer.from([0xc0, 0xaf]), ',1,2026-01-01\n'),
    expect: q('quarantined', 'invalid-encoding'),
  },
  {
    name: 'JSON Lines in UTF-16 LE',
    stream: 'events',
    bytes: () => utf16('{"id":1,"kind":"a"}\n', 'le', true),
    expect: q('quarantined', 'encoding-utf16'),
  },
];

const DELIMITERS: BadInput[] = [
  {
    name: 'semicolons for a comma contract',
    stream: 'orders',
    bytes: () => csv(GOOD.map((l) => l.replaceAll(',', ';'))),
    expect: q('quarantined', 'csv-delimiter-mismatch'),
  },
  {
    name: 'tabs for a comma contract',
    stream: 'orders',
    bytes: () => csv(GOOD.map((l) => l.replaceAll(',', '\t'))),
    expect: q('quarantined', 'csv-delimiter-mismatch'),
  },
  { name: 'tabs where no delimiter is declared', stream: 'sniffed', bytes: text('id\tname\n1\ta\n2\tb\n'), expect: clean(2) },
  { name: 'pipes where no delimiter is declared', stream: 'sniffed', bytes: text('id|name\n1|a\n2|b\n'), expect: clean(2) },
  { name: 'CRLF line ends', stream: 'orders', bytes: () => csv(GOOD, '\r\n'), expect: clean(3) },
  { name: 'no line end after the last row', stream: 'orders', bytes: text(GOOD.join('\n')), expect: clean(3) },
];

const QUOTING: BadInput[] = [
  {
    name: 'an unterminated quote',
    stream: 'orders',
    bytes: () => csv([HEADER, '1,"open,1,2026-01-01', '2,b,2,2026-01-02']),
    expect: q('quarantined', 'csv-unterminated-quote'),
  },
  // RFC 4180 allows no quote inside an unquoted field; the engine reads it literally, the
  // independent count reads it as an opening quote: the counts disagree and say so.
  {
    name: 'a stray quote inside a field',
    stream: 'orders',
    bytes: () => csv([HEADER, '1,a"b,1,2026-01-01', '2,b,2,2026-01-02']),
    expect: q('quarantined', 'csv-row-count-mismatch'),
  },
  {
    name: 'a quoted field over two lines (valid)',
    stream: 'orders',
    bytes: () => csv([HEADER, '1,"two\nlines",1,2026-01-01', '2,b,2,2026-01-02']),
    expect: clean(2),
  },
  {
    name: 'escaped quotes and a quoted delimiter (valid)',
    stream: 'orders',
    bytes: () => csv([HEADER, '1,"say ""hi"", then go",1,2026-01-01']),
    expect: clean(1),
  },
];

const RAGGED: BadInput[] = [
  { name: 'a row with too few fields', stream: 'orders', bytes: () => csv([...GOOD, '4,d,4']), expect: q('quarantined', 'csv-ragged-row') },
  {
    name: 'a row with too many fields',
    stream: 'orders',
    bytes: () => csv([...GOOD, '4,d,4,2026-01-04,extra']),
    expect: q('quarantined', 'csv-ragged-row'),
  },
  {
    name: 'a trailing delimiter on every line',
    stream: 'orders',
    bytes: () => csv(GOOD.map((l) => `${l},`)),
    expect: q('quarantined', 'csv-header-invalid'),
  },
];

const SIZES: BadInput[] = [
  {
    name: 'a 5 MiB field',
    stream: 'orders',
    bytes: () => csv([HEADER, `1,${'x'.repeat(5 << 20)},1,2026-01-01`, '2,b,2,2026-01-02']),
    expect: clean(2),
  },
  {
    name: 'a 9 MiB row',
    stream: 'orders',
    bytes: () => csv([HEADER, `1,${'x'.repeat(9 << 20)},1,2026-01-01`]),
    expect: q('quarantined', 'line-too-long'),
  },
  {
    name: 'a header line past 1 MiB',
    stream: 'orders',
    bytes: () => Buffer.from(`id,${'n'.repeat(2 << 20)}`),
    expect: q('quarantined', 'line-too-long'),
  },
  {
    // A valid header that differs from the contract is drift by design: the stream halts.
    name: '10,000 columns',
    stream: 'orders',
    bytes: () => csv([Array.from({ length: 10_000 }, (_, i) => `c${i}`).join(','), Array.from({ length: 10_000 }, (_, i) => i).join(',')]),
    expect: q('waiting', 'schema-drift'),
  },
  { name: '2,000 rows', stream: 'orders', bytes: () => csv([HEADER, ...rows(2000)]), expect: clean(2000) },
];

const HEADERS: BadInput[] = [
  {
    name: 'a duplicated header name',
    stream: 'orders',
    bytes: () => csv(['id,name,qty,qty', '1,a,1,2']),
    expect: q('quarantined', 'csv-duplicate-header'),
  },
  {
    name: 'an empty header name',
    stream: 'orders',
    bytes: () => csv(['id,,qty,day', '1,a,1,2026-01-01']),
    expect: q('quarantined', 'csv-header-invalid'),
  },
  {
    name: 'a header name of spaces',
    stream: 'orders',
    bytes: () => csv(['id,   ,qty,day', '1,a,1,2026-01-01']),
    expect: q('quarantined', 'csv-header-invalid'),
  },
  { name: 'a header and no rows', stream: 'orders', bytes: () => csv([HEADER]), expect: q('quarantined', 'no-rows') },
  { name: 'an empty file', stream: 'orders', bytes: () => new Uint8Array(), expect: q('quarantined', 'empty-file') },
  { name: 'only blank lines', stream: 'orders', bytes: text('\n\n\n\n'), expect: q('quarantined', 'no-header') },
  { name: 'only whitespace', stream: 'orders', bytes: text('  \t \r\n   \n\t\n'), expect: q('quarantined', 'no-header') },
  { name: 'a blank line before the header', stream: 'orders', bytes: () => concat('\n', goodCsv()), expect: q('quarantined', 'no-header') },
  {
    name: 'a renamed column (drift)',
    stream: 'orders',
    bytes: () => csv(['id,full_name,qty,day', '1,a,1,2026-01-01']),
    expect: q('waiting', 'schema-drift'),
  },
  {
    name: 'an added column (drift)',
    stream: 'orders',
    bytes: () => csv([`${HEADER},extra`, '1,a,1,2026-01-01,x']),
    expect: q('waiting', 'schema-drift'),
  },
  {
    name: 'columns in another order (not drift)',
    stream: 'orders',
    bytes: () => csv(['day,qty,name,id', '2026-01-01,1,a,1']),
    expect: clean(1),
  },
  { name: 'a quoted header', stream: 'orders', bytes: () => csv(['"id","name","qty","day"', '1,a,1,2026-01-01']), expect: clean(1) },
];

const FORMATS: BadInput[] = [
  { name: 'random binary', stream: 'orders', bytes: () => noise(8192), expect: q('quarantined', 'binary-content') },
  {
    name: 'a NUL byte in a field',
    stream: 'orders',
    bytes: () => csv([HEADER, '1,a\u0000b,1,2026-01-01']),
    expect: q('quarantined', 'binary-content'),
  },
  {
    // Past the sniffed head: found by the independent count of the whole content.
    name: 'a NUL byte after 200 KB of good rows',
    stream: 'orders',
    bytes: () => csv([HEADER, ...rows(8000), '9001,a\u0000b,1,2026-01-01']),
    expect: q('quarantined', 'binary-content'),
  },
  { name: 'Parquet where CSV is declared', stream: 'orders', bytes: parquet(PARQUET_GOOD), expect: q('quarantined', 'format-mismatch') },
  { name: 'gzip bytes under a .csv name', stream: 'orders', bytes: () => gzipSync(goodCsv()), expect: q('quarantined', 'format-mismatch') },
  {
    name: 'a zip archive under a .csv name',
    stream: 'orders',
    bytes: () => concat(Buffer.from([0x50, 0x4b, 0x03, 0x04]), noise(200)),
    expect: q('quarantined', 'format-mismatch'),
  },
  {
    name: 'JSON Lines where CSV is declared',
    stream: 'orders',
    bytes: text('{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n'),
    expect: q('quarantined', 'format-mismatch'),
  },
  {
    name: 'a pretty-printed JSON array where CSV is declared',
    stream: 'orders',
    bytes: text('[\n  {"id": 1}\n]\n'),
    expect: q('quarantined', 'format-mismatch'),
  },
  { name: 'CSV where JSON Lines is declared', stream: 'events', bytes: goodCsv, expect: q('quarantined', 'jsonl-invalid') },
  {
    name: 'a JSON array line in JSON Lines',
    stream: 'events',
    bytes: text('{"id":1,"kind":"a"}\n[1,2]\n'),
    expect: q('quarantined', 'jsonl-not-object'),
  },
  {
    name: 'a broken JSON line',
    stream: 'events',
    bytes: text('{"id":1,"kind":"a"}\n{"id":2,"kind":\n'),
    expect: q('quarantined', 'jsonl-invalid'),
  },
  { name: 'JSON Lines of blank lines only', stream: 'events', bytes: text('\n\n  \n'), expect: q('quarantined', 'no-rows') },
  {
    name: 'Parquet where JSON Lines is declared',
    stream: 'events',
    bytes: parquet(PARQUET_GOOD),
    expect: q('quarantined', 'format-mismatch'),
  },
  {
    name: 'valid JSON Lines with a blank line',
    stream: 'events',
    bytes: text('{"id":1,"kind":"a"}\n\n{"id":2,"kind":"b"}\n'),
    expect: clean(2),
  },
];

const GZIP: BadInput[] = [
  { name: 'a valid gzip', stream: 'orders', key: 'raw/orders/good.csv.gz', bytes: () => gzipSync(goodCsv()), expect: clean(3) },
  {
    name: 'a corrupt gzip',
    stream: 'orders',
    key: 'raw/orders/corrupt.csv.gz',
    bytes: () => {
      const gz = gzipSync(csv([HEADER, ...rows(2000)]));
      for (let i = gz.length >> 1; i < (gz.length >> 1) + 64; i++) gz[i] = gz[i]! ^ 0x5a;
      return gz;
    },
    expect: q('quarantined', 'not-gzip'),
  },
  {
    name: 'a truncated gzip',
    stream: 'orders',
    key: 'raw/orders/truncated.csv.gz',
    bytes: () => {
      const gz = gzipSync(csv([HEADER, ...rows(2000)]));
      return gz.subarray(0, gz.length >> 1);
    },
    expect: q('quarantined', 'not-gzip'),
  },
  {
    name: 'a .gz name without gzip bytes',
    stream: 'orders',
    key: 'raw/orders/fake.csv.gz',
    bytes: goodCsv,
    expect: q('quarantined', 'not-gzip'),
  },
  {
    name: 'a gzip of nothing',
    stream: 'orders',
    key: 'raw/orders/nothing.csv.gz',
    bytes: () => gzipSync(Buffer.alloc(0)),
    expect: q('quarantined', 'empty-file'),
  },
  {
    name: 'a gzip bomb (200 MiB from 200 KiB)',
    stream: 'orders',
    key: 'raw/orders/bomb.csv.gz',
    bytes: () => gzipBomb(200),
    expect: q('quarantined', 'gzip-bomb'),
  },
  {
    name: 'a gzip bomb (1 GiB from 1 MiB)',
    stream: 'orders',
    key: 'raw/orders/bomb-1g.csv.gz',
    bytes: () => gzipBomb(1024),
    expect: q('quarantined', 'gzip-bomb'),
  },
  {
    name: 'gzip inside gzip',
    stream: 'orders',
    key: 'raw/orders/double.csv.gz',
    bytes: () => gzipSync(gzipSync(goodCsv())),
    expect: q('quarantined', 'format-mismatch'),
  },
  {
    name: 'a gzip of UTF-16',
    stream: 'orders',
    key: 'raw/orders/utf16.csv.gz',
    bytes: () => gzipSync(utf16(GOOD.join('\n'), 'le', true)),
    expect: q('quarantined', 'encoding-utf16'),
  },
  {
    name: 'a gzip of JSON Lines',
    stream: 'events',
    key: 'raw/events/good.jsonl.gz',
    bytes: () => gzipSync('{"id":1,"kind":"a"}\n'),
    expect: clean(1),
  },
];

const PARQUET: BadInput[] = [
  { name: 'a valid Parquet file', stream: 'pq', bytes: parquet(PARQUET_GOOD), expect: clean(3) },
  {
    name: 'Parquet with the wrong schema (drift)',
    stream: 'pq',
    bytes: parquet(PARQUET_WRONG_SCHEMA),
    expect: q('waiting', 'schema-drift'),
  },
  { name: 'CSV where Parquet is declared', stream: 'pq', bytes: goodCsv, expect: q('quarantined', 'parquet-invalid') },
  {
    name: 'a truncated Parquet file',
    stream: 'pq',
    bytes: () => Buffer.from(PARQUET_GOOD, 'base64').subarray(0, 200),
    expect: q('quarantined', 'parquet-invalid'),
  },
  { name: 'an empty Parquet file', stream: 'pq', bytes: () => new Uint8Array(), expect: q('quarantined', 'empty-file') },
];

/** Row-level problems: the batch is ingested, the bad rows go to the suspect lane with their reasons, every row accounted for. */
const VALUES: BadInput[] = [
  {
    name: 'an integer beyond 64 bits',
    stream: 'orders',
    bytes: () => csv([...GOOD, '4,d,123456789012345678901234567890,2026-01-04']),
    expect: suspect('qty:type', 4),
  },
  {
    name: 'an integer just past the 64-bit range',
    stream: 'orders',
    bytes: () => csv([...GOOD, '4,d,9223372036854775808,2026-01-04']),
    expect: suspect('qty:type', 4),
  },
  {
    name: 'exponent notation in an integer column',
    stream: 'orders',
    bytes: () => csv([...GOOD, '4,d,1e3,2026-01-04']),
    expect: suspect('qty:type', 4),
  },
  {
    name: 'a fraction in an integer column',
    stream: 'orders',
    bytes: () => csv([...GOOD, '4,d,1.0,2026-01-04']),
    expect: suspect('qty:type', 4),
  },
  {
    name: 'leading zeros in an integer column',
    stream: 'orders',
    bytes: () => csv([...GOOD, '4,d,007,2026-01-04']),
    expect: suspect('qty:type', 4),
  },
  {
    name: 'an impossible date (2026-02-30)',
    stream: 'orders',
    bytes: () => csv([...GOOD, '4,d,4,2026-02-30']),
    expect: suspect('day:type', 4),
  },
  { name: 'a date in another format', stream: 'orders', bytes: () => csv([...GOOD, '4,d,4,30/01/2026']), expect: suspect('day:type', 4) },
  { name: 'a missing primary key', stream: 'orders', bytes: () => csv([...GOOD, ',d,4,2026-01-04']), expect: suspect('id:not_null', 4) },
  {
    name: 'a repeated primary key with other values',
    stream: 'orders',
    bytes: () => csv([...GOOD, '3,other,9,2026-01-09']),
    expect: { status: 'ingested', reason: 'pk:conflict', rows: { source: 4, clean: 2, quarantined: 2 } },
  },
  {
    name: 'an exact duplicate row',
    stream: 'orders',
    bytes: () => csv([...GOOD, GOOD[3]!]),
    expect: { status: 'ingested', rows: { source: 4, clean: 3, duplicates_collapsed: 1 } },
  },
];

const LONG_KEY = `raw/orders/${`${'a'.repeat(99)}/`.repeat(9)}${'b'.repeat(85)}.csv`;

const KEYS: BadInput[] = [
  {
    name: 'a key with .. traversal',
    stream: 'orders',
    key: 'raw/orders/../orders/evil.csv',
    bytes: goodCsv,
    expect: q('refused-key', 'key-unsafe'),
  },
  {
    name: 'a percent-encoded traversal',
    stream: 'orders',
    key: 'raw/orders/%2e%2e/evil.csv',
    bytes: goodCsv,
    expect: q('refused-key', 'key-unsafe'),
  },
  {
    name: 'a double-encoded traversal',
    stream: 'orders',
    key: 'raw/orders/%252E%252E/evil.csv',
    bytes: goodCsv,
    expect: q('refused-key', 'key-unsafe'),
  },
  {
    name: 'a percent-encoded slash',
    stream: 'orders',
    key: 'raw/orders/..%2f..%2fmanifests.csv',
    bytes: goodCsv,
    expect: q('refused-key', 'key-unsafe'),
  },
  {
    name: 'a control character in the key',
    stream: 'orders',
    key: 'raw/orders/evil\u0007.csv',
    bytes: goodCsv,
    expect: q('refused-key', 'key-unsafe'),
  },
  { name: 'a line end in the key', stream: 'orders', key: 'raw/orders/evil\n.csv', bytes: goodCsv, expect: q('refused-key', 'key-unsafe') },
  { name: 'a backslash in the key', stream: 'orders', key: 'raw/orders\\evil.csv', bytes: goodCsv, expect: q('refused-key', 'key-unsafe') },
  { name: 'an empty key segment', stream: 'orders', key: 'raw/orders//evil.csv', bytes: goodCsv, expect: q('refused-key', 'key-unsafe') },
  { name: 'an invalid stream name', stream: 'orders', key: 'raw/Orders/evil.csv', bytes: goodCsv, expect: q('refused-key', 'key-unsafe') },
  { name: 'a key of 1,000 characters', stream: 'orders', key: LONG_KEY, bytes: goodCsv, expect: clean(3) },
  {
    name: 'a key past 1,024 characters',
    stream: 'orders',
    key: LONG_KEY.replace('raw/orders/', `raw/orders/${'c'.repeat(99)}/`),
    bytes: goodCsv,
    expect: q('refused-key', 'key-unsafe'),
  },
  { name: 'a unicode key', stream: 'orders', key: 'raw/orders/données-日本語-🚀 #1.csv', bytes: goodCsv, expect: clean(3) },
  { name: 'a percent sign that is not an encoding', stream: 'orders', key: 'raw/orders/50%-off.csv', bytes: goodCsv, expect: clean(3) },
  { name: 'an unknown stream', stream: 'nobody', bytes: goodCsv, expect: q('refused', 'unknown-stream') },
];

const contractText = (json: unknown) => () => Buffer.from(JSON.stringify(json));
const column = (name: string, type: string, extra: object = {}) => ({ name, type, ...extra });

/** Contracts that must not register: the message names the field. */
const CONTRACTS: BadInput[] = [
  {
    name: 'a contract that is not JSON',
    stream: 'broken',
    contract: true,
    bytes: text('{"stream": "broken",'),
    expect: { status: 'contract-refused', reason: 'contract-invalid', message: /is not JSON/ },
  },
  {
    name: 'a contract with an unknown column type',
    stream: 'broken',
    contract: true,
    bytes: contractText({ stream: 'broken', version: 1, columns: [column('id', 'uuid')] }),
    expect: { status: 'contract-refused', reason: 'contract-invalid', message: /columns\.id\.type/ },
  },
  {
    name: 'a contract with a nullable primary key',
    stream: 'broken',
    contract: true,
    bytes: contractText({ stream: 'broken', version: 1, columns: [column('id', 'integer', { primary_key: true, nullable: true })] }),
    expect: { status: 'contract-refused', reason: 'contract-invalid', message: /columns\.id\.nullable/ },
  },
  {
    name: 'a contract with a duplicate column',
    stream: 'broken',
    contract: true,
    bytes: contractText({ stream: 'broken', version: 1, columns: [column('id', 'integer'), column('ID', 'string')] }),
    expect: { status: 'contract-refused', reason: 'contract-invalid', message: /duplicate column ID/ },
  },
  {
    name: 'a contract with min above max',
    stream: 'broken',
    contract: true,
    bytes: contractText({ stream: 'broken', version: 1, columns: [column('qty', 'integer', { min: 10, max: 1 })] }),
    expect: { status: 'contract-refused', reason: 'contract-invalid', message: /columns\.qty\.min/ },
  },
  {
    name: 'a contract without columns',
    stream: 'broken',
    contract: true,
    bytes: contractText({ stream: 'broken', version: 1, columns: [] }),
    expect: { status: 'contract-refused', reason: 'contract-invalid', message: /columns/ },
  },
];

/** Every entry of the corpus. */
export const BAD_INPUTS: BadInput[] = [
  ...ENCODINGS,
  ...DELIMITERS,
  ...QUOTING,
  ...RAGGED,
  ...SIZES,
  ...HEADERS,
  ...FORMATS,
  ...GZIP,
  ...PARQUET,
  ...VALUES,
  ...KEYS,
  ...CONTRACTS,
];

/** The key an entry is uploaded under. */
export function badInputKey(entry: BadInput): string {
  const slug = entry.name
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
  return entry.key ?? `raw/${entry.stream}/${slug}.${EXTENSION[entry.stream] ?? 'csv'}`;
}
