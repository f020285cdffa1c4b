/**
 * Which function an uploaded object triggers. The same table configures the store's upload
 * notifications, routes them in the local event bridge, and must agree with the S3 events in
 * serverless.yml (a test checks it). Filters do not overlap, as AWS requires.
 */
export interface Route {
  fn: 'ingest' | 'cluster' | 'remediate' | 'reconcile';
  prefix: string;
  suffix?: string;
}

export const ROUTES: readonly Route[] = [
  { fn: 'ingest', prefix: 'raw/' },
  { fn: 'ingest', prefix: 'parts/' },
  { fn: 'cluster', prefix: 'manifests/', suffix: '/ingest.json' },
  { fn: 'remediate', prefix: 'work/', suffix: '.json' },
  { fn: 'remediate', prefix: 'reviews/', suffix: '.json' },
  { fn: 'reconcile', prefix: 'results/', suffix: '.json' },
  { fn: 'reconcile', prefix: 'reviewed/', suffix: '.json' },
];

/**
 * Objects under this prefix trigger no function: `stack up` writes one and waits for the
 * bridge to receive its notification, proving the store's delivery path before it reports ready.
 */
export const PROBE_PREFIX = '_stack/probe/';

export function routeFor(key: string): Route | undefined {
  return ROUTES.find((r) => key.startsWith(r.prefix) && (r.suffix === undefined || key.endsWith(r.suffix)));
}

export const SERVICE = 'vaultmend';

/** The deployed name of a function, as serverless names it: service-stage-function. */
export function functionName(fn: Route['fn'], stage: string): string {
  return `${SERVICE}-${stage}-${fn}`;
}
