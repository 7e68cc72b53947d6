import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors';
import { API_REGISTRY, matchRoute, type TOperation } from './registry';

export const API_PREFIX = '/api/v1';

/**
 * Every /api/v1 path (OpenAPI spelling, `{id}` for a segment) and the methods its route
 * file exports, from the route registry (a unit test holds that to the files under
 * app/api/v1, so it cannot drift from what Next serves).
 */
export const API_ROUTES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(API_REGISTRY).map(([path, methods]) => [path, Object.keys(methods)]),
);

const ALLOW: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(API_ROUTES).map(([path, methods]) => [path, allowHeader(methods)]),
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
  const segments = apiSegments(url);
  if (!segments) return null;
  const path = matchRoute(segments);
  if (!path) {
    const message = `No such API endpoint; the endpoints are listed in ${API_PREFIX}/openapi.json.`;
    return { error: new ApiError(404, 'not_found', message) };
  }
  const allow = ALLOW[path]!;
  if (allow.split(', ').includes(method)) {
    const operation = (API_REGISTRY[path] as Partial<Record<string, TOperation>>)[
      method === 'HEAD' ? 'GET' : method
    ];
    const fields = operation ? queryRefusals(operation, url) : {};
    if (!Object.keys(fields).length) return null;
    const names = Object.keys(fields).join(', ');
    return { error: new ApiError(400, 'invalid_input', `Invalid input: ${names}.`, { fields }) };
  }
  const message = `This endpoint does not answer ${method}; it answers ${allow}.`;
  return { error: new ApiError(405, 'method_not_allowed', message), allow };
}

/**
 * Query parameters an operation does not take, or takes once and was given more often:
 * each named. A parameter an endpoint ignored would be a request misread in silence —
 * `POST /cards/{id}/rates/import?dryRun=true` wrote the rows — and of a repeated one the
 * schema saw only the last. The registry's query schema is the list (none: no parameter).
 */
function queryRefusals(operation: TOperation, url: string): Record<string, string> {
  const at = url.indexOf('?');
  if (at < 0) return {};
  const params = new URLSearchParams(url.slice(at + 1));
  const known = operation.query?.shape ?? {};
  const fields: Record<string, string> = {};
  for (const name of new Set(params.keys())) {
    if (!Object.hasOwn(known, name)) fields[name] = 'is not a parameter of this endpoint';
    else if (params.getAll(name).length > 1) fields[name] = 'is given more than once';
  }
  return fields;
}

/**
 * The decoded segments of an /api/v1 URL below the prefix, or null when it is not one or
 * not in canonical form: Next redirects a trailing or repeated slash and dot segments to
 * the canonical path, which comes back here.
 */
export function apiSegments(url: string): string[] | null {
  const pathname = url.split('?')[0]!;
  if (pathname !== API_PREFIX && !pathname.startsWith(`${API_PREFIX}/`)) return null;
  const segments = pathname.slice(API_PREFIX.length).split('/').slice(1).map(decodeSegment);
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return null;
  }
  return segments;
}

/** A path segment as a route sees it; a malformed escape stays as sent. */
export function decodeSegment(segment: string): string {
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
