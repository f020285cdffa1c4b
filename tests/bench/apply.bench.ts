import { gateFunction } from '../../lib/remediate/lambda-gate.ts';
import { Sandbox } from '../../lib/remediate/sandbox.ts';
import { writeBenchResult } from './bench-files.ts';

/**
 * bench:apply — values per second through the gate and the sandbox: 1,000,000 messy amounts
 * ("  1,234.50 USD") repaired by one number-extraction function, the way a cluster is applied.
 * Baseline, measured in the same run: the same function as a plain `Array.map` in the host
 * (no isolation). The sandbox's time includes handing the values to its own process and back. Target: >= 500,000 values/s. Results: tests/bench/results/apply.json.
 */
const VALUES = Number(process.env['BENCH_VALUES'] ?? 1_000_000);
const RUNS = 3;
const TARGET = 500_000;
const FUNCTION = "x => { const n = parseFloat(x.replace(/[^0-9.\\-]/g, '')); return Number.isFinite(n) ? Number(n.toFixed(2)) : null; }";

function values(): string[] {
  return Array.from(
    { length: VALUES },
    (_, i) => `  ${((i * 7919) % 1_000_000).toLocaleString('en-US')}.${String(i % 100).padStart(2, '0')} USD`,
  );
}

async function best(run: () => unknown): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest / 1000;
}

const inputs = values();
const sandbox = new Sandbox();
let checked = 0;
const sandboxSeconds = await best(async () => {
  const verdict = gateFunction(FUNCTION);
  if (!verdict.accepted) throw new Error(`bench function refused: ${verdict.reason}`);
  const result = await sandbox.apply(verdict.source, inputs);
  if (result.stopped || result.errors.length) throw new Error('bench function failed in the sandbox');
  checked = result.outputs.length;
});
sandbox.dispose();
// eslint-disable-next-line no-new-func -- the baseline: the very same function, unisolated, in the host
const plain = new Function(`return (${FUNCTION})`)() as (x: string) => number | null;
const baselineSeconds = await best(() => {
  inputs.map(plain);
});

const valuesPerS = Math.round(checked / sandboxSeconds);
writeBenchResult('apply', {
  bench: 'apply',
  values: checked,
  function: FUNCTION,
  runs: RUNS,
  seconds: Number(sandboxSeconds.toFixed(3)),
  values_per_s: valuesPerS,
  baseline: {
    what: 'the same function as Array.map in the host, no isolation',
    seconds: Number(baselineSeconds.toFixed(3)),
    values_per_s: Math.round(VALUES / baselineSeconds),
  },
  overhead_ratio: Number((sandboxSeconds / baselineSeconds).toFixed(2)),
  target_values_per_s: TARGET,
  target_met: valuesPerS >= TARGET,
  node: process.version,
});
