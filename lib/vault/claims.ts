import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { keys } from '../keys.ts';
import { jsonText } from '../store/json-objects.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { findObject, objectKind, putObjectIfAbsent } from './vault-object.ts';

/** A step's claim on one piece of work, e.g. scope `<batch>/reconcile` or `<batch>/remediate/<cluster>`. */
export const ClaimSchema = z.object({
  schema_version: z.literal(1),
  scope: z.string().min(1),
  generation: z.number().int().min(0),
  holder: z.string().min(1),
  claimed_at: z.iso.datetime(),
  lease_until: z.iso.datetime(),
});
export type Claim = z.infer<typeof ClaimSchema>;
/** `claims/<scope>/<generation>.json`, first writer wins. */
export const claimObject = objectKind('claim', keys.claim, ClaimSchema, { once: true });

/** Either this invocation holds the work, or someone else does (a live holder, within its lease). */
export type ClaimOutcome = { held: true; claim: Claim; takenOver: Claim | undefined } | { held: false; by: Claim };

export interface ClaimOptions {
  leaseMs: number;
  /** Who claims: unique per invocation. */
  holder?: string;
  now?: () => Date;
}

/** The scope of each step's claim, spelled once: the steps claim with these, and replay looks them up. */
export const claimScopes = {
  ingest: (batch: string) => `${batch}/ingest`,
  cluster: (batch: string) => `${batch}/cluster`,
  remediate: (batch: string, cluster: string) => `${batch}/remediate/${cluster}`,
  reconcile: (batch: string) => `${batch}/reconcile`,
  /** Re-remediating a reviewed cluster with a person's decision. */
  review: (batch: string, cluster: string) => `${batch}/review/${cluster}`,
  /** Revision n >= 1 of the batch's reconcile. */
  revision: (batch: string, revision: number) => `${batch}/reconcile-r${revision}`,
};

/** Whether a standing claim still holds its work: within its lease and not released by its holder. */
async function holds(store: ObjectStore, claim: Claim, now: Date): Promise<boolean> {
  return Date.parse(claim.lease_until) > now.getTime() && !(await store.exists(keys.claimRelease(claim.scope, claim.generation)));
}

/** The claim that holds `scope`'s work now (its newest generation, if that one still holds), if any. */
export async function liveClaim(store: ObjectStore, scope: string, now = new Date()): Promise<Claim | undefined> {
  let newest: Claim | undefined;
  for (let generation = 0; ; generation++) {
    const claim = await findObject(store, claimObject.at(scope, generation));
    if (!claim) return newest && (await holds(store, newest, now)) ? newest : undefined;
    newest = claim;
  }
}

/** The default lease: longer than a function's 300 s timeout, so a live holder is never taken over. */
export const DEFAULT_LEASE_MS = 360_000;

/** Generations tried in one call; each one is a holder that died, so this many in a row means something is wrong. */
const MAX_GENERATIONS = 1_000;

/**
 * Claims work before doing it, first writer wins: generation 0 is a conditional put
 * (`putIfAbsent`), so of any number of racing deliveries exactly one holds the work and the
 * others learn who does and exit. A claim whose lease ran out, or that its holder released,
 * is taken over by claiming the next generation the same way, so a crash never strands work
 * and two takers never both win. Outputs stay deterministic, so a takeover writes the same bytes.
 *
 * @example
 * const outcome = await claimWork(store, claimScopes.reconcile(batch), { leaseMs: 360_000 });
 * if (!outcome.held) return { status: 'claimed-elsewhere', by: outcome.by.holder };
 */
export async function claimWork(store: ObjectStore, scope: string, options: ClaimOptions): Promise<ClaimOutcome> {
  const now = options.now ?? (() => new Date());
  const holder = options.holder ?? `${process.pid}-${randomUUID()}`;
  let previous: Claim | undefined;
  for (let generation = 0; generation < MAX_GENERATIONS; generation++) {
    const at = now();
    const mine: Claim = {
      schema_version: 1,
      scope,
      generation,
      holder,
      claimed_at: at.toISOString(),
      lease_until: new Date(at.getTime() + options.leaseMs).toISOString(),
    };
    const written = await putObjectIfAbsent(store, claimObject.at(scope, generation), mine);
    if (written.created) return { held: true, claim: mine, takenOver: previous };
    const standing = written.value;
    if (await holds(store, standing, now())) return { held: false, by: standing };
    previous = standing;
  }
  throw new Error(`claim ${scope}: ${MAX_GENERATIONS} generations taken over; refusing to go on`);
}

/** Gives a claim up (its holder failed and the platform will retry): the next delivery takes it over at once. */
export async function releaseClaim(store: ObjectStore, claim: Claim): Promise<void> {
  await store.put(keys.claimRelease(claim.scope, claim.generation), jsonText({ holder: claim.holder }), {
    contentType: 'application/json',
  });
}

/**
 * Runs `work` under a claim: the claim is taken first, released when `work` throws (so the
 * platform's retry does not wait out the lease) or when `finished` says the work produced no
 * output that later deliveries will see (a file held while its stream is halted must be free to
 * be replayed), and kept otherwise (the step's outputs then tell later deliveries it is done).
 */
export async function withClaim<T>(
  store: ObjectStore,
  scope: string,
  options: ClaimOptions,
  work: (claim: Claim) => Promise<T>,
  finished: (value: T) => boolean = () => true,
): Promise<{ held: true; value: T; takenOver: Claim | undefined } | { held: false; by: Claim }> {
  const outcome = await claimWork(store, scope, options);
  if (!outcome.held) return outcome;
  let value: T;
  try {
    value = await work(outcome.claim);
  } catch (error) {
    await releaseClaim(store, outcome.claim).catch(() => undefined);
    throw error;
  }
  if (!finished(value)) await releaseClaim(store, outcome.claim);
  return { held: true, value, takenOver: outcome.takenOver };
}
