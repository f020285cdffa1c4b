import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract } from '../../lib/contract/registry.ts';
import type { Column, Contract } from '../../lib/contract/contract.ts';
import { Engine } from '../../lib/engine/duckdb.ts';
import { classifyRows, writeOutputs } from '../../lib/ingest/bouncer.ts';
import { typedProjection, withTypedColumns } from '../../lib/contract/rules-sql.ts';
import { loadSourceTable, openSource } from '../../lib/ingest/load-source.ts';
import { guardFor, parseExactNumber, roundExact, sameNumber, type Rounding } from '../../lib/remediate/guards.ts';
import { gateFunction } from '../../lib/remediate/lambda-gate.ts';
import type { DistinctInput, PatternInputs } from '../../lib/remediate/measure.ts';
import { buildMessages } from '../../lib/remediate/model/prompt.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { synthesize } from '../../lib/remediate/synthesizer.ts';
import { synthesizerCandidates } from '../../lib/remediate/synthesizer-catalog.ts';

/** Numbers keep every digit (DESIGN.md): the bouncer's type, the physical type, the new-number guard, the number candidates. */
const contractWith = (amount: Record<string, unknown>): Contract =>
  parseContract({
    stream: 'digits',
    version: 1,
    columns: [
      { name: 'id', type: 'integer', primary_key: true },
      { name: 'amount', type: 'decimal', ...amount },
    ],
  });
const amountOf = (contract: Contract): Column => contract.columns[1]!;
const UNSCALED = contractWith({});

let dir: string;
let engine: Engine;
let sandbox: Sandbox;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vm-numbers-'));
  engine = await Engine.open({ memoryLimit: '256MB', threads: 1, spillDir: join(dir, 'spill') });
  sandbox = new Sandbox();
});
afterAll(() => {
  sandbox.dispose();
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Ingests `amounts` under `contract` and returns each row's reasons and the clean Parquet's path. */
async function bounce(contract: Contract, amounts: string[]) {
  const path = join(dir, 'in.csv');
  writeFileSync(path, `id,amount\n${amounts.map((a, i) => `${i + 1},${a}`).join('\n')}\n`);
  const reader = await openSource(engine, { path, format: contract.format, gzip: false });
  await loadSourceTable(engine, reader, contract);
  const { counts } = await classifyRows(engine, contract);
  const clean = join(dir, 'clean.parquet');
  await writeOutputs(engine, contract, counts, { clean, suspect: join(dir, 's.parquet'), quarantine: join(dir, 'q.parquet') });
  const rows = await engine.rows<{ reasons: string[] }>('SELECT reasons FROM verdicts ORDER BY row_id');
  return { reasons: rows.map((r) => r.reasons), clean };
}

/** Whether two decimal texts are the same number, digit for digit (trailing fraction zeros aside). */
const exactlyEqual = (a: string, b: string) => sameNumber(parseExactNumber(a)!, parseExactNumber(b)!);

describe('a decimal without a declared scale', () => {
  it('accepts any fraction length up to 18 digits and keeps every digit in the clean Parquet, as DECIMAL(38,18)', async () => {
    const amounts = [
      '4.1988535',
      '0.052000000000000005',
      '12345678901234567890.123456789012345678',
      '-0.5',
      '7',
      '-99999999999999999999.999999999999999999',
    ];
    const { reasons, clean } = await bounce(UNSCALED, amounts);
    expect(reasons).toEqual(amounts.map(() => []));
    const types = await engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet('${clean}')`);
    expect(types.find((t) => t.column_name === 'amount')!.column_type).toBe('DECIMAL(38,18)');
    const back = await engine.rows<{ amount: string }>(`SELECT amount::VARCHAR AS amount FROM read_parquet('${clean}') ORDER BY row_id`);
    back.forEach((r, i) => expect(exactlyEqual(r.amount, amounts[i]!), `${r.amount} vs ${amounts[i]}`).toBe(true));
  });

  it('keeps 50,000 values of 7 fraction digits clean and exact', async () => {
    const amounts = fc
      .sample(fc.tuple(fc.integer({ min: -999_999, max: 999_999 }), fc.integer({ min: 0, max: 9_999_999 })), { numRuns: 50_000, seed: 11 })
      .map(([whole, fraction]) => `${whole}.${String(fraction).padStart(7, '0')}`);
    const { reasons, clean } = await bounce(UNSCALED, amounts);
    expect(reasons.filter((r) => r.length > 0)).toEqual([]);
    const back = await engine.rows<{ amount: string }>(`SELECT amount::VARCHAR AS amount FROM read_parquet('${clean}') ORDER BY row_id`);
    expect(back.filter((r, i) => !exactlyEqual(r.amount, amounts[i]!))).toEqual([]);
  }, 60_000);

  it('fails `type` for values its physical type cannot hold exactly, instead of rounding them', async () => {
    const { reasons } = await bounce(UNSCALED, ['0.1234567890123456789', '123456789012345678901', '123456789012345678901.5']);
    expect(reasons).toEqual([['amount:type'], ['amount:type'], ['amount:type']]);
  });

  it('gives fixed rows (typedProjection over text) the same type as clean rows, so the lanes union', async () => {
    const fixed = `SELECT ${typedProjection(UNSCALED)} FROM (${withTypedColumns(UNSCALED, `SELECT '1' AS id, '1.123456789012345' AS amount`)})`;
    const types = await engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE ${fixed}`);
    expect(types.find((t) => t.column_name === 'amount')!.column_type).toBe('DECIMAL(38,18)');
    const [row] = await engine.rows<{ amount: string }>(`SELECT amount::VARCHAR AS amount FROM (${fixed})`);
    expect(exactlyEqual(row!.amount, '1.123456789012345')).toBe(true);
  });

  it('keeps DECIMAL(18, s) for a declared scale', async () => {
    const { clean } = await bounce(contractWith({ scale: 2 }), ['1.25']);
    const types = await engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet('${clean}')`);
    expect(types.find((t) => t.column_name === 'amount')!.column_type).toBe('DECIMAL(18,2)');
  });
});

describe('the new-number guard', () => {
  const guard = (amount: Record<string, unknown>, input: string, output: string) => {
    const contract = contractWith(amount);
    return guardFor(amountOf(contract), contract, input, output);
  };

  it('refuses dropping a digit when no scale is declared', () => {
    expect(guard({}, '4.1988535 kg', '4.198854')).toBe('new-number');
    expect(guard({}, '4.1988535 kg', '4.1988535')).toBeUndefined();
    expect(guard({}, '12345678901234567.123', '12345678901234568')).toBe('new-number');
    expect(guard({}, '12345678901234567.123 USD', '12345678901234567.123')).toBeUndefined();
  });

  it('refuses rounding to a declared scale unless the contract names the rounding', () => {
    expect(guard({ scale: 2 }, '12.345', '12.35')).toBe('new-number');
    expect(guard({ scale: 2, rounding: 'half-up' }, '12.345', '12.35')).toBeUndefined();
    expect(guard({ scale: 2, rounding: 'half-up' }, '12.345', '12.34')).toBe('new-number');
    expect(guard({ scale: 2, rounding: 'half-even' }, '12.345', '12.34')).toBeUndefined();
    expect(guard({ scale: 2, rounding: 'half-even' }, '12.355', '12.36')).toBeUndefined();
    expect(guard({ scale: 2, rounding: 'half-even' }, '12.345', '12.35')).toBe('new-number');
  });

  it('lets float noise far beyond the declared scale go, but not genuine extra digits', () => {
    expect(guard({ scale: 3 }, '0.052000000000000005%', '0.052')).toBeUndefined();
    expect(guard({ scale: 2 }, '0.05000000000000001', '0.05')).toBeUndefined();
    expect(guard({ scale: 2 }, '0.59999999999999998', '0.6')).toBeUndefined();
    expect(guard({ scale: 2 }, '0.052000000000000005', '0.05')).toBe('new-number');
    expect(guard({}, '0.05000000000000001 %', '0.05')).toBe('new-number');
  });

  it('refuses an integer that drops a fraction', () => {
    const contract = parseContract({ stream: 'n', version: 1, columns: [{ name: 'qty', type: 'integer' }] });
    expect(guardFor(contract.columns[0]!, contract, '12.4 pcs', '12')).toBe('new-number');
    expect(guardFor(contract.columns[0]!, contract, '1,234 pcs', '1234')).toBeUndefined();
  });

  it('property: without a declared scale, only the exact number passes; any digit dropped or changed is refused', () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }), fc.stringMatching(/^[0-9]{1,18}$/))
      .map(([w, f]) => `${w}.${f}`);
    fc.assert(
      fc.property(decimal, fc.constantFrom('', ' USD', ' kg', '%'), (value, unit) => {
        expect(guard({}, `${value}${unit}`, value)).toBeUndefined();
        const fraction = value.split('.')[1]!;
        if (/[1-9]/.test(fraction.slice(-1))) expect(guard({}, `${value}${unit}`, value.slice(0, -1))).toBe('new-number');
        const bumped = value.slice(0, -1) + String((Number(value.at(-1)) + 1) % 10);
        expect(guard({}, `${value}${unit}`, bumped)).toBe('new-number');
      }),
      { numRuns: 300 },
    );
  });
});

describe('the number candidates', () => {
  const candidate = (amount: Record<string, unknown>, name: string) => {
    const contract = contractWith(amount);
    return synthesizerCandidates(amountOf(contract), contract).find((c) => c.name === name)!;
  };
  const apply = async (amount: Record<string, unknown>, name: string, values: string[]) => {
    const source = candidate(amount, name).source;
    const verdict = gateFunction(source);
    expect(verdict, source).toMatchObject({ accepted: true });
    const result = await sandbox.apply(source, values);
    if (result.stopped) throw new Error(result.message);
    return result.outputs;
  };

  it('extract every digit when no scale is declared', async () => {
    expect(
      await apply({}, 'extract-number', ['4.1988535 kg', '$12,345.678901234', '12345678901234567.123 USD', '0007.50 EUR', '-0.000 kg']),
    ).toEqual(['4.1988535', '12345.678901234', '12345678901234567.123', '7.5', '0']);
    expect(await apply({}, 'decimal-comma', ['4,1988535 kg'])).toEqual(['4.1988535']);
  });

  it('return a value with genuine extra digits unchanged at a declared scale without a named rounding', async () => {
    expect(await apply({ scale: 2 }, 'extract-number', ['12.345 USD', '12.30 USD', '0.05000000000000001 %', '99.999999999999999'])).toEqual(
      ['12.345 USD', '12.3', '0.05', '100'],
    );
  });

  it('round as the contract names it', async () => {
    const values = ['12.345', '12.355', '-12.345', '9.995', '-0.001', '1.2349'];
    expect(await apply({ scale: 2, rounding: 'half-up' }, 'extract-number', values)).toEqual([
      '12.35',
      '12.36',
      '-12.35',
      '10',
      '0',
      '1.23',
    ]);
    expect(await apply({ scale: 2, rounding: 'half-even' }, 'extract-number', values)).toEqual([
      '12.34',
      '12.36',
      '-12.34',
      '10',
      '0',
      '1.23',
    ]);
  });

  it('property: the sandboxed rounding and the guard agree, digit for digit', async () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.stringMatching(/^[0-9]{0,6}[05]?$/))
      .map(([w, f]) => (f ? `${w}.${f}` : String(w)));
    const values = fc.sample(decimal, { numRuns: 400, seed: 7 });
    for (const [scale, rounding] of [
      [0, 'half-up'],
      [1, 'half-even'],
      [2, 'half-up'],
      [3, 'half-even'],
    ] as [number, Rounding][]) {
      const outputs = await apply({ scale, rounding }, 'extract-number', values);
      values.forEach((v, i) => {
        const expected = roundExact(parseExactNumber(v)!, scale, rounding);
        expect(sameNumber(parseExactNumber(String(outputs[i]))!, expected), `${v} at ${scale} ${rounding} -> ${String(outputs[i])}`).toBe(
          true,
        );
        expect(guard(scale, rounding, v, String(outputs[i]))).toBeUndefined();
      });
    }
    function guard(scale: number, rounding: Rounding, input: string, output: string) {
      const contract = contractWith({ scale, rounding });
      return guardFor(amountOf(contract), contract, input, output);
    }
  }, 60_000);
});

describe('the synthesizer on a whole pattern', () => {
  const pattern = (column: Column, values: string[]): PatternInputs => ({
    column,
    distinct: async (): Promise<DistinctInput[]> => values.map((value) => ({ value, cells: 1 })),
  });

  it('sends 12.345 at scale 2 without a named rounding to review: no candidate passes', async () => {
    const contract = contractWith({ scale: 2 });
    const synthesis = await synthesize({ engine, sandbox, contract }, pattern(amountOf(contract), ['12.345', '7.125']));
    expect(synthesis.best).toBeUndefined();
  });

  it('fixes a unit around a number without a scale, every digit kept', async () => {
    const synthesis = await synthesize(
      { engine, sandbox, contract: UNSCALED },
      pattern(amountOf(UNSCALED), ['4.1988535 kg', '0.1234567 kg']),
    );
    expect(synthesis.best?.candidate.name).toBe('extract-number');
    expect(synthesis.best?.outcomes.map((o) => o.writes[0])).toEqual(['4.1988535', '0.1234567']);
  });
});

describe('the model prompt', () => {
  const text = (column: Column) => String(buildMessages({ column, rule: `${column.name}:type`, samples: [] })[1]!.content);

  it('asks to keep every digit of a decimal without a scale, and names the rounding where the contract does', () => {
    expect(text(amountOf(UNSCALED))).toContain('keep every digit, never round');
    expect(text(amountOf(UNSCALED))).not.toContain('at most 6 digits');
    expect(text(amountOf(contractWith({ scale: 2 })))).toContain('never round genuine extra digits');
    expect(text(amountOf(contractWith({ scale: 2, rounding: 'half-even' })))).toContain('half to even');
  });
});
