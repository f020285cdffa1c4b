import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The benchmark peers' Python packages, pinned: the versions the issue measured against. */
export const PEER_PACKAGES = ['polars==1.44.2', 'pandera==0.33.1'] as const;

/** A Python with the peer packages, or why there is none (the bench then reports the rest). */
export type PythonPeer = { available: true; python: string; versions: Record<string, string> } | { available: false; reason: string };

/**
 * A virtual environment under `dir` with PEER_PACKAGES installed from the index pip is configured
 * with on this machine (made once, then reused). Every command has a timeout; a machine without
 * python3, venv or the packages gets `available: false` and the reason, never a failed bench.
 *
 * @example
 * const peer = ensurePythonPeer(join(repo, '.bench', 'peer-venv'));
 * if (peer.available) execFileSync(peer.python, ['tests/bench/peers/pandera_orders.py', csv, out]);
 */
export function ensurePythonPeer(dir: string): PythonPeer {
  const python = join(dir, 'bin', 'python');
  const run = (file: string, args: string[], timeout: number) =>
    execFileSync(file, args, { encoding: 'utf8', timeout, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    if (!existsSync(python)) run('python3', ['-m', 'venv', dir], 120_000);
    const probe = 'import json, importlib.metadata as m; print(json.dumps({p: m.version(p) for p in ("polars", "pandera")}))';
    const installed = (): Record<string, string> | undefined => {
      try {
        const versions = JSON.parse(run(python, ['-c', probe], 60_000)) as Record<string, string>;
        return PEER_PACKAGES.every((spec) => spec === `${spec.split('==')[0]}==${versions[spec.split('==')[0]!]}`) ? versions : undefined;
      } catch {
        return undefined;
      }
    };
    let versions = installed();
    if (!versions) {
      run(python, ['-m', 'pip', 'install', '--quiet', ...PEER_PACKAGES], 900_000);
      versions = installed();
    }
    if (!versions) return { available: false, reason: `pip installed, but ${PEER_PACKAGES.join(' ')} do not import` };
    return { available: true, python, versions };
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
    return { available: false, reason: `no Python peer: ${detail}` };
  }
}
