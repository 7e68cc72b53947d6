import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getLogger, getRequestLogger, REQUEST_ID_HEADER } from '@/lib/server/observability/logger';
import { getMetrics, routeLabel, scrapeText } from '@/lib/server/observability/metrics';

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives every HTTP request an id — the caller's `X-Request-Id` when it is a sane token,
 * else a new one — set on the request (route handlers log errors with it) and on the
 * answer; on finish, one log line (API requests at info, pages and assets at debug;
 * the path without its query, which can hold search terms) and the HTTP metrics.
 */
export function observeRequest(req: IncomingMessage, res: ServerResponse): void {
  const given = req.headers[REQUEST_ID_HEADER];
  const reqId = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
  req.headers[REQUEST_ID_HEADER] = reqId;
  res.setHeader(REQUEST_ID_HEADER, reqId);
  const started = performance.now();
  res.once('finish', () => {
    const seconds = (performance.now() - started) / 1000;
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routeLabel(path);
    const method = methodLabel(req.method);
    const metrics = getMetrics();
    metrics.httpRequests.inc({ method, route, status: String(res.statusCode) });
    metrics.httpDuration.observe({ method, route }, seconds);
    const line = {
      reqId,
      method,
      path: path.slice(0, 200),
      status: res.statusCode,
      ms: Math.round(seconds * 10_000) / 10,
    };
    if (path.startsWith('/api/')) getRequestLogger().info(line, 'request');
    else getRequestLogger().debug(line, 'request');
  });
}

export interface TOpsDeps {
  metricsToken?: string;
  /** Ready: started, not shutting down, and the database answers. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
}

/**
 * Answers the operations endpoints the process itself owns (they need its live state,
 * which the route handlers do not have): `/api/ready` (readiness: 200 when it should get
 * traffic, 503 while starting, draining or without its database) and `/api/metrics`
 * (Prometheus text, with the `METRICS_TOKEN` bearer token; off without one).
 * `/api/health` (liveness and database status) is a route handler.
 * Returns whether it answered.
 */
export async function serveOps(
  req: IncomingMessage,
  res: ServerResponse,
  deps: TOpsDeps,
): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/api/ready' && path !== '/api/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'application/json', JSON.stringify({ error: { code: 'method_not_allowed' } }));
    return true;
  }
  if (path === '/api/ready') {
    const state = await deps.ready().catch(() => ({ ready: false, checks: { server: 'error' } }));
    send(
      res,
      state.ready ? 200 : 503,
      'application/json',
      JSON.stringify({ status: state.ready ? 'ready' : 'not_ready', checks: state.checks }),
    );
    return true;
  }
  if (!mayScrape(req, deps.metricsToken)) {
    // Like any other outsider: nothing here.
    send(res, 404, 'application/json', JSON.stringify({ error: { code: 'not_found' } }));
    return true;
  }
  // One target, one view: in a cluster, every worker's figures summed by the primary.
  const scraped = await scrapeText().catch((error: unknown) => {
    getLogger().warn({ err: error }, 'metrics: the workers could not be gathered');
    return null;
  });
  if (!scraped) {
    send(res, 503, 'application/json', JSON.stringify({ error: { code: 'unavailable' } }));
    return true;
  }
  send(res, 200, scraped.contentType, scraped.text);
  return true;
}

/**
 * Closed by default: without `METRICS_TOKEN` nobody may scrape (a reverse proxy on the
 * same host would make every caller look like loopback, so the address proves nothing).
 */
function mayScrape(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return false;
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/** The methods the API and pages answer; any other the parser took is `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * A request's method as a metrics label: from a fixed set. Taken as sent, the 34 methods
 * Node's parser knows (PROPFIND, M-SEARCH …) times every route label made one anonymous
 * client's 2,400 requests into 35,000 series in every scrape.
 */
export function methodLabel(method: string | undefined): string {
  const given = method ?? 'GET';
  return METHODS.has(given) ? given : 'other';
}
