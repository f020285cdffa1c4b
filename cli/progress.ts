import type { Out } from './io.ts';
import { megabytes } from './output.ts';

/** Reports how far a transfer of `total` bytes is. */
export interface Progress {
  update(loaded: number): void;
  /** The transfer is done: a terminal's bar is completed and ended, elsewhere one line is written. */
  finish(): void;
}

const WIDTH = 30;

/** `[#####.....] 42% 12.3/29.0 MB` */
export function barText(loaded: number, total: number, width = WIDTH): string {
  const share = total > 0 ? Math.min(1, loaded / total) : 1;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${megabytes(loaded)}/${megabytes(total)} MB`;
}

/**
 * A progress bar on stderr, redrawn in place, when stderr is a terminal; otherwise nothing until
 * the end, then one line (logs and pipes get no carriage returns).
 */
export function progressBar(out: Out, label: string, total: number): Progress {
  let last = '';
  const draw = (loaded: number): void => {
    const text = `${label} ${barText(loaded, total)}`;
    if (text !== last) out.stderr(`\r${text}`);
    last = text;
  };
  return {
    update: (loaded) => {
      if (out.tty) draw(loaded);
    },
    finish: () => {
      if (out.tty) {
        draw(total);
        out.stderr('\n');
      } else out.stderr(`${label} ${megabytes(total)} MB done\n`);
    },
  };
}
