import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { allowHeader, API_ROUTES, apiRouteError } from '@/lib/server/api/routes';

const ROOT = path.resolve(__dirname, '../../app/api/v1');
/** The methods a Next route file can export (Next's own list). */
const HTTP_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** Every route file under app/api/v1 as the OpenAPI path it serves (`[id]` → `{id}`). */
function routeFiles(dir = ROOT): { path: string; file: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return routeFiles(full);
    if (entry.name !== 'route.ts') return [];
    const route = path
      .relative(ROOT, dir)
      .split(path.sep)
      .map((segment) => segment.replace(/^\[(\w+)\]$/, '{$1}'));
    return [{ path: `/${route.join('/')}`, file: full }];
  });
}

describe('the /api/v1 route registry', () => {
  it('is exactly the route files under app/api/v1 and the methods each exports', async () => {
    const served: Record<string, string[]> = {};
    for (const { path: route, file } of routeFiles()) {
      const module = (await import(file)) as Record<string, unknown>;
      served[route] = HTTP_METHODS.filter((method) => typeof module[method] === 'function');
    }
    const registered = Object.fromEntries(
      Object.entries(API_REGISTRY).map(([route, methods]) => [route, Object.keys(methods).sort()]),
    );
    for (const methods of Object.values(served)) methods.sort();
    expect(Object.keys(served).length).toBeGreaterThan(20);
    // A route file (or an exported method) the registry lacks, or an entry with no file.
    const missing = Object.entries(served).flatMap(([route, methods]) =>
      methods.filter((m) => !registered[route]?.includes(m)).map((m) => `${m} ${route}`),
    );
    const stale = Object.entries(registered).flatMap(([route, methods]) =>
      methods.filter((m) => !served[route]?.includes(m)).map((m) => `${m} ${route}`),
    );
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  }, 60_000);

  it('is what the router serves: API_ROUTES is the registry', () => {
    const table = Object.fromEntries(
      Object.entries(API_ROUTES).map(([route, methods]) => [route, [...methods].sort()]),
    );
    expect(table).toEqual(
      Object.fromEntries(
        Object.entries(API_REGISTRY).map(([route, methods]) => [
          route,
          Object.keys(methods).sort(),
        ]),
      ),
    );
  });

  it('answers Allow as Next answers OPTIONS', () => {
    expect(allowHeader(['GET'])).toBe('GET, HEAD, OPTIONS');
    expect(allowHeader(['POST'])).toBe('OPTIONS, POST');
    expect(allowHeader(['GET', 'PATCH', 'DELETE'])).toBe('DELETE, GET, HEAD, OPTIONS, PATCH');
  });

  it('refuses unknown paths and unserved methods, and leaves the rest to Next', () => {
    const id = '6f1c1d1e-0000-4000-8000-000000000001';
    expect(apiRouteError('GET', '/api/v1/me')).toBeNull();
    expect(apiRouteError('HEAD', '/api/v1/customers?limit=1&sort=name')).toBeNull();
    // A parameter the operation does not take, or one given twice: 400 naming it.
    expect(apiRouteError('HEAD', '/api/v1/me?x=1')?.error.toBody()).toEqual({
      error: {
        code: 'invalid_input',
        message: 'Invalid input: x.',
        fields: { x: 'is not a parameter of this endpoint' },
      },
    });
    expect(apiRouteError('GET', '/api/v1/customers?limit=1&limit=2')?.error.status).toBe(400);
    expect(apiRouteError('OPTIONS', '/api/v1/auth/token')).toBeNull();
    expect(apiRouteError('PATCH', `/api/v1/cards/${id}`)).toBeNull();
    expect(apiRouteError('GET', `/api/v1/cards/${id}/rates/export`)).toBeNull();
    expect(apiRouteError('GET', '/api/v1/m%65')).toBeNull();
    // Not the API's, or not canonical yet: Next answers (a page, or a redirect back here).
    expect(apiRouteError('GET', '/api/health')).toBeNull();
    expect(apiRouteError('GET', '/cards')).toBeNull();
    expect(apiRouteError('GET', '/api/v1/me/')).toBeNull();
    expect(apiRouteError('GET', '/api/v1//me')).toBeNull();

    for (const url of ['/api/v1', '/api/v1/nope', `/api/v1/cards/${id}/nope`, '/api/v1/me/x/y']) {
      const refused = apiRouteError('GET', url);
      expect(refused?.error.toBody(), url).toEqual({
        error: { code: 'not_found', message: expect.any(String) },
      });
      expect(refused?.error.status).toBe(404);
      expect(refused?.allow).toBeUndefined();
    }
    const wrong = apiRouteError('DELETE', '/api/v1/cards?limit=1');
    expect(wrong?.error.status).toBe(405);
    expect(wrong?.error.code).toBe('method_not_allowed');
    expect(wrong?.allow).toBe('GET, HEAD, OPTIONS, POST');
    expect(apiRouteError('GET', '/api/v1/auth/token')?.allow).toBe('OPTIONS, POST');
    expect(apiRouteError('HEAD', '/api/v1/impersonation')?.allow).toBe('DELETE, OPTIONS, POST');
    expect(apiRouteError('PROPFIND', `/api/v1/users/${id}`)?.allow).toBe(
      'DELETE, GET, HEAD, OPTIONS, PATCH',
    );
  });
});
