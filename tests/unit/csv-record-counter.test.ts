import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRecordCounter } from '../../lib/ingest/csv-record-counter.ts';

function count(text: string, cuts: number[] = []): number {
  const bytes = Buffer.from(text, 'utf8');
  const counter = new CsvRecordCounter();
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    counter.push(bytes.subarray(start, cut));
    start = cut;
  }
  counter.push(bytes.subarray(start));
  return counter.total();
}

describe('CSV record counter', () => {
  it.each([
    ['a,b\n1,2\n', 2],
    ['a,b\n1,2', 2],
    ['a,b\r\n1,2\r\n3,4\r\n', 3],
    ['a,b\n1,"x\ny"\n', 2],
    ['a,b\n1,"say ""hi""\nthere"\n', 2],
    ['a,b\n\n1,2\n\n', 2],
    ['', 0],
  ])('counts %j as %i records', (text, records) => {
    expect(count(text)).toBe(records);
  });

  it('reports a quote left open', () => {
    const counter = new CsvRecordCounter();
    counter.push(Buffer.from('a,b\n1,"never closed\n'));
    expect(counter.unterminatedQuote()).toBe(true);
  });

  it('finds the first NUL byte wherever the chunks are cut (binary content, not text)', () => {
    const counter = new CsvRecordCounter();
    counter.push(Buffer.from('a,b\n1,2\n'));
    expect(counter.firstNul()).toBe(-1);
    counter.push(Buffer.from('3,x\u0000y\n\u0000'));
    expect(counter.firstNul()).toBe(11);
    expect(counter.total()).toBe(4);
  });

  it('gives the same count however the stream is chunked', () => {
    const field = fc.oneof(
      fc.stringMatching(/^[a-z0-9 ]{0,6}$/),
      fc.stringMatching(/^[a-z\n,]{0,6}$/).map((s) => `"${s}"`),
    );
    const row = fc.array(field, { minLength: 1, maxLength: 4 }).map((fields) => fields.join(','));
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 8 }), (rows, cuts) => {
        const text = `${rows.join('\n')}\n`;
        const size = Buffer.byteLength(text);
        const whole = count(text);
        expect(
          count(
            text,
            cuts.map((c) => c % (size + 1)),
          ),
        ).toBe(whole);
        // Rows made of only empty fields are blank lines, which are not records.
        expect(whole).toBe(rows.filter((r) => r !== '').length);
      }),
    );
  });
});

describe('longest record', () => {
  it('is measured across chunks and quoted line ends', () => {
    const counter = new CsvRecordCounter();
    const text = `a,b\n1,"${'x'.repeat(100)}\n${'y'.repeat(50)}"\n2,z`;
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) counter.push(bytes.subarray(i, i + 7));
    expect(counter.total()).toBe(3);
    expect(counter.longestRecord()).toBe(2 + 1 + 100 + 1 + 50 + 1);
  });
});
