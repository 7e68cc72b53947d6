import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors';
import { API_OPERATIONS } from './openapi';

export const API_PREFIX = '/api/v1';

/**
 * Served under /api/v1 but not in the OpenAPI document: the document itself, and the
 * catch-up page (the twin of the socket's `events:since`, described with the live protocol).
 */
const UNDOCUMENTED: Readonly<Record<string, readonly string[]>> = {
  '/openapi.json': ['GET'],
  '/events': ['GET'],
};

/**
 * Every /api/v1 path (OpenAPI spelling, `{id}` for a segment) and the methods its route
 * file exports: the documented operations plus the undocumented routes. A unit test holds
 * it to the files under app/api/v1, so it cannot drift from what Next serves.
 */
export const API_ROUTES: Readonly<Record<string, readonly string[]>> = {
  ...API_OPERATIONS,
  ...UNDOCUMENTED,
};

interface TRoute {
  segments: readonly string[];
  methods: ReadonlySet<string>;
  allow: string;
}

/** Static segments before `{id}`: with fewer parameters first, a literal wins a tie. */
const ROUTES: readonly TRoute[] = Object.entries(API_ROUTES)
  .map(([path, methods]) => ({
    segments: path.split('/').slice(1),
    methods: new Set(methods),
    allow: allowHeader(methods),
  }))
  .sort(
    (a, b) =>
      a.segments.filter((s) => s === '{id}').length - b.segments.filter((s) => s === '{id}').length,
  );

/**
 * `Allow` as Next answers `OPTIONS` for a route file: its methods, `HEAD` wherever `GET`
 * is (Next serves it from `GET`) and `OPTIONS` itself, sorted.
 */
export function allowHeader(methods: readonly string[]): string {
  const allowed = new Set([...methods, 'OPTIONS']);
  if (allowed.has('GET')) allowed.add('HEAD');
  return [...allowed].sort().join(', ');
}

/**
 * The API's answer for a request its routes do not serve — an unknown /api/v1 path (404
 * `not_found`) or a method its path does not serve (405 `method_not_allowed` with `Allow`)
 * — or null to let Next answer it. Next's own answers are an HTML page and an empty 405.
 */
export function apiRouteError(
  method: string,
  url: string,
): { error: ApiError; allow?: string } | null {
  const pathname = url.split('?')[0]!;
  if (pathname !== API_PREFIX && !pathname.startsWith(`${API_PREFIX}/`)) return null;
  const segments = pathname.slice(API_PREFIX.length).split('/').slice(1).map(decodeSegment);
  // Next redirects a trailing or repeated slash and dot segments to the canonical path,
  // which comes back here.
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return null;
  }
  const route = ROUTES.find(
    (candidate) =>
      candidate.segments.length === segments.length &&
      candidate.segments.every((part, index) => part === '{id}' || part === segments[index]),
  );
  if (!route) {
    const message = `No such API endpoint; the endpoints are listed in ${API_PREFIX}/openapi.json.`;
    return { error: new ApiError(404, 'not_found', message) };
  }
  if (route.allow.split(', ').includes(method)) return null;
  const message = `This endpoint does not answer ${method}; it answers ${route.allow}.`;
  return { error: new ApiError(405, 'method_not_allowed', message), allow: route.allow };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Answers a request `apiRouteError` refuses, from the custom server; true when it did. */
export function answerApiRouteError(req: IncomingMessage, res: ServerResponse): boolean {
  const refused = apiRouteError(req.method ?? 'GET', req.url ?? '/');
  if (!refused) return false;
  res.writeHead(refused.error.status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(refused.allow ? { allow: refused.allow } : {}),
  });
  res.end(JSON.stringify(refused.error.toBody()));
  return true;
}
