/**
 * Where a command writes: stdout carries the result (only JSON with `--json`), stderr carries
 * messages and the progress bar. Commands take an `Out` so that tests can run them in-process.
 */
export interface Out {
  /** Writes to stdout (the result). */
  stdout(text: string): void;
  /** Writes to stderr (messages, progress). */
  stderr(text: string): void;
  /** Whether stderr is a terminal (a progress bar is drawn only then). */
  readonly tty: boolean;
}

/** The process's own stdout and stderr. */
export const processOut: Out = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  get tty() {
    return process.stderr.isTTY === true;
  },
};

/** An `Out` that keeps what was written (for tests). */
export interface BufferedOut extends Out {
  readonly written: { stdout: string; stderr: string };
}

/** Collects stdout and stderr in memory; `tty` says whether to behave as on a terminal. */
export function bufferOut(tty = false): BufferedOut {
  const written = { stdout: '', stderr: '' };
  return {
    written,
    tty,
    stdout: (text) => {
      written.stdout += text;
    },
    stderr: (text) => {
      written.stderr += text;
    },
  };
}
