import { defineConfig } from 'vitest/config';

/** Unit tests that load every core with busy processes (decisions and the sandbox under load). */
const LOAD_TESTS = ['tests/unit/sandbox-load.test.ts', 'tests/unit/decision-under-load.test.ts'];

export default defineConfig({
  test: {
    reporters: ['default', './tests/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          // isolated-vm (the sandbox) needs it on Node 20 and later.
          execArgv: ['--no-node-snapshot'],
          include: ['tests/unit/**/*.test.ts'],
          exclude: LOAD_TESTS,
          // The two projects run one after the other (different group orders), never side by side:
          // some unit tests saturate both cores on purpose (decisions under load), which must not
          // slow the integration tests' deliveries.
          sequence: { groupOrder: 0 },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'load',
          // The tests that saturate both cores on purpose run alone: one file at a time, in a group
          // of their own, so that neither their calibration nor any other test shares the machine.
          execArgv: ['--no-node-snapshot'],
          include: LOAD_TESTS,
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          execArgv: ['--no-node-snapshot'],
          include: ['tests/integration/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          // One real stack (Ceph RGW, event bridge, serverless-offline) for the whole project.
          globalSetup: ['tests/support/stack-global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 400_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          execArgv: ['--no-node-snapshot'],
          include: ['tests/faults/**/*.test.ts'],
          // After the integration tests, on a stack of its own (tests/faults/fault-stack-env.ts).
          sequence: { groupOrder: 3 },
          globalSetup: ['tests/faults/fault-stack-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 400_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
