import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { functionName, PROBE_PREFIX, ROUTES, routeFor } from '../../lib/flow/routes.ts';

interface S3Event {
  s3: { event: string; rules: Array<{ prefix?: string; suffix?: string }> };
}

describe('routes', () => {
  const yml = parse(readFileSync('serverless.yml', 'utf8')) as {
    service: string;
    provider: { runtime: string };
    functions: Record<string, { handler: string; events: (S3Event | { httpApi: unknown })[] }>;
  };

  it('agree with the S3 events declared in serverless.yml', () => {
    expect(yml.service).toBe('vaultmend');
    expect(yml.provider.runtime).toBe('nodejs24.x');
    const declared = Object.entries(yml.functions).flatMap(([fn, def]) =>
      def.events.flatMap((event) => {
        if (!('s3' in event)) return [];
        const rules = Object.assign({}, ...event.s3.rules) as { prefix?: string; suffix?: string };
        return [{ fn, prefix: rules.prefix, ...(rules.suffix ? { suffix: rules.suffix } : {}) }];
      }),
    );
    expect(declared).toEqual(ROUTES.map((r) => ({ ...r })));
  });

  it('route each step of the flow to its function and nothing else anywhere', () => {
    expect(routeFor('raw/orders/a.csv')?.fn).toBe('ingest');
    expect(routeFor('parts/orders/orders-0123456789abcdef0123/3.csv')?.fn).toBe('ingest');
    expect(routeFor('manifests/orders-1/ingest.json')?.fn).toBe('cluster');
    expect(routeFor('manifests/orders-1/reconcile.json')).toBeUndefined();
    expect(routeFor('work/orders-1/clusters/c1.json')?.fn).toBe('remediate');
    expect(routeFor('results/orders-1/c1.json')?.fn).toBe('reconcile');
    expect(routeFor('reviews/orders-1/c1.json')?.fn).toBe('remediate');
    expect(routeFor('reviewed/orders-1/c1.json')?.fn).toBe('reconcile');
    expect(routeFor('clean/orders/b/part-0.parquet')).toBeUndefined();
    expect(routeFor(`${PROBE_PREFIX}x`)).toBeUndefined();
  });

  it('have filters that never overlap (AWS refuses overlapping notifications)', () => {
    for (const a of ROUTES) {
      for (const b of ROUTES) {
        if (a === b) continue;
        const prefixesOverlap = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
        expect(prefixesOverlap, `${a.fn} and ${b.fn}`).toBe(false);
      }
    }
  });

  it('name functions as serverless does', () => {
    expect(functionName('ingest', 'local')).toBe('vaultmend-local-ingest');
  });
});
