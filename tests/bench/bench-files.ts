import { once } from 'node:events';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lines written to a file through a 1 MiB buffer, waiting for the stream to drain: generated files do not sit in memory. */
export class LineFile {
  private readonly out;
  private buffer = '';

  constructor(path: string) {
    this.out = createWriteStream(path);
  }

  async line(text: string): Promise<void> {
    this.buffer += `${text}\n`;
    if (this.buffer.length > 1 << 20) {
      if (!this.out.write(this.buffer)) await once(this.out, 'drain');
      this.buffer = '';
    }
  }

  async close(): Promise<void> {
    this.out.write(this.buffer);
    this.out.end();
    await once(this.out, 'close');
  }
}

/** Writes a benchmark's result to tests/bench/results/<name>.json and prints it. */
export function writeBenchResult(name: string, result: unknown): void {
  const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(dir, `${name}.json`), text);
  process.stdout.write(text);
}
