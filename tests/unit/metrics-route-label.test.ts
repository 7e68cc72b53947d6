import { describe, expect, it } from 'vitest';
import { routeLabel } from '@/lib/server/observability/metrics';

describe('the route label of HTTP metrics', () => {
  it('folds ids into {id} on the routes the API has', () => {
    expect(routeLabel('/api/v1/customers/0f8fad5b-d9cb-469f-a165-70867728950e?x=1')).toBe(
      '/api/v1/customers/{id}',
    );
    expect(routeLabel('/api/v1/cards/0F8FAD5B-D9CB-469F-A165-70867728950E/rates/export')).toBe(
      '/api/v1/cards/{id}/rates/export',
    );
    expect(routeLabel('/api/v1/resellers')).toBe('/api/v1/resellers');
    expect(
      routeLabel('/api/v1/cards/0f8fad5b-d9cb-469f-a165-70867728950e/revisions/12/diff?limit=5'),
    ).toBe('/api/v1/cards/{id}/revisions/{n}/diff');
    // Catch-up was `other` before the registry named every route.
    expect(routeLabel('/api/v1/events?since=12')).toBe('/api/v1/events');
    expect(routeLabel('/api/v1/openapi.json')).toBe('/api/v1/openapi.json');
    expect(routeLabel('/api/metrics')).toBe('/api/metrics');
  });

  it('keeps the series bounded: anything else is one label per kind', () => {
    expect(routeLabel('/api/v1/customers/not-an-id')).toBe('other');
    expect(routeLabel(`/api/v1/${'a'.repeat(500)}`)).toBe('other');
    expect(routeLabel('/api/auth/callback/credentials')).toBe('/api/auth');
    expect(routeLabel('/_next/static/chunks/app.js')).toBe('/_next');
    expect(routeLabel('/cards')).toBe('page');
  });
});
