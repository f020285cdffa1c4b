import { createHash } from 'node:crypto';
import type { SealedValue } from './pii-cipher.ts';

/**
 * The audit log of a batch as a hash chain: JSON Lines, each line carrying `prev`, the SHA-256
 * of the line before it (the first one: of a genesis text naming the stream and batch). The
 * root hash — of the last line — goes into the batch's manifest. Editing, dropping or
 * reordering any line breaks the chain at that point; cutting the tail changes the root.
 * A line is one JSON object with its members in this order: `seq, stream, batch`, the entry's
 * fields as below (`operator` only on a line that has one), and `prev` last.
 */
export interface AuditEntry {
  kind: 'cell-changed' | 'row-quarantined';
  row_id: number;
  pk_hash: string;
  column: string | null;
  old: string | null | SealedValue;
  new: string | null | SealedValue;
  function: string | null;
  function_name: string | null;
  tier: string | null;
  confidence: number | null;
  model: string | null;
  model_version: string | null;
  timestamp: string;
  reason: string | null;
  cluster: string | null;
  /** Who approved the function, on a line of tier `operator` (absent on every other line). */
  operator?: string;
}

export type AuditLine = AuditEntry & { seq: number; stream: string; batch: string; prev: string };

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
export const genesis = (stream: string, batch: string) => sha256(`vaultmend-audit\n${stream}\n${batch}`);

/**
 * Chains prepared lines into the audit text: each body is a line's JSON object without its `prev`
 * (the engine builds them, in order, key order fixed: see AuditEntry and reconcile's audit lines),
 * and `prev` goes in as its last member, the SHA-256 of the line before. The one step that needs
 * the hash before it is this fold: a string and a hash per line, nothing else. `start`: the hash
 * the first line is chained to — the batch's genesis for its first audit object, the previous
 * object's root for a later revision's.
 */
export function chainLines(
  stream: string,
  batch: string,
  bodies: readonly string[],
  start = genesis(stream, batch),
): { text: string; lines: number; root: string } {
  let prev = start;
  const out = new Array<string>(bodies.length);
  for (let i = 0; i < bodies.length; i++) {
    const body = bodies[i]!;
    if (typeof body !== 'string' || !body.startsWith('{"seq":') || !body.endsWith('}'))
      throw new Error(`audit line ${i + 1} is not a prepared line object`);
    const line = `${body.slice(0, -1)},"prev":"${prev}"}`;
    out[i] = line;
    prev = sha256(line);
  }
  return { text: out.length ? `${out.join('\n')}\n` : '', lines: out.length, root: prev };
}

export interface ChainProblem {
  line: number;
  kind: 'unparsable' | 'wrong-batch' | 'sequence' | 'chain-broken' | 'root-mismatch';
  detail: string;
}

export interface ChainVerdict {
  ok: boolean;
  lines: number;
  root: string;
  problems: ChainProblem[];
}

/**
 * Recomputes the chain of an audit text; with `expectedRoot` (from the manifest), also that nothing
 * was cut off. `start`: what the first line is chained to (see chainEntries).
 */
export function verifyChain(
  stream: string,
  batch: string,
  text: string,
  expectedRoot?: string,
  start = genesis(stream, batch),
): ChainVerdict {
  const lines = text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  const problems: ChainProblem[] = [];
  let prev = start;
  lines.forEach((line, i) => {
    const n = i + 1;
    let parsed: Partial<AuditLine>;
    try {
      parsed = JSON.parse(line) as Partial<AuditLine>;
    } catch {
      problems.push({ line: n, kind: 'unparsable', detail: 'not JSON' });
      prev = sha256(line);
      return;
    }
    if (parsed.batch !== batch || parsed.stream !== stream)
      problems.push({ line: n, kind: 'wrong-batch', detail: `names ${parsed.stream}/${parsed.batch}` });
    if (parsed.seq !== n)
      problems.push({ line: n, kind: 'sequence', detail: `seq ${parsed.seq}, expected ${n} (a line was removed or moved)` });
    if (parsed.prev !== prev) {
      problems.push({
        line: n,
        kind: 'chain-broken',
        detail:
          n === 1
            ? "the first line does not start from the hash it is chained to (the genesis, or the previous audit object's root)"
            : `line ${n - 1} is not the line this one was chained to (edited, removed or moved)`,
      });
    }
    prev = sha256(line);
  });
  if (expectedRoot !== undefined && prev !== expectedRoot) {
    problems.push({
      line: lines.length,
      kind: 'root-mismatch',
      detail: 'the last line is not the one the manifest recorded (edited, or lines cut off or added at the end)',
    });
  }
  return { ok: problems.length === 0, lines: lines.length, root: prev, problems };
}
