#!/usr/bin/env node
// `npx vaultmend ...` in a clone: the operators' CLI (cli/vaultmend.ts) through tsx, with the
// flag the sandbox's isolated-vm needs, on the Node that runs this file (the project's Node 24
// when started through npx or an npm script). Its exit code, and a signal that ends it, pass through.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../cli/vaultmend.ts', import.meta.url));
const child = spawn(process.execPath, ['--no-node-snapshot', '--import', import.meta.resolve('tsx'), cli, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  process.exit(code ?? 1);
});
