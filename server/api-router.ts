import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Duplex, Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import { errorResponse, jsonTextOf } from '@/lib/server/api/handler';
import { API_REGISTRY, matchRoute, type TApiPath } from '@/lib/server/api/registry';
import { bodyLimitFor, JSON_BODY_LIMIT, keepBodyText } from '@/lib/server/api/body-limit';
import { allowHeader, apiSegments } from '@/lib/server/api/routes';
import { getLogger } from '@/lib/server/observability/logger';
import { findRuntime } from '@/lib/server/runtime';
import type { TRequestServer } from './app';

/**
 * /api/v1 answered from the route registry in the custom server itself (issue 14). Next's
 * per-request routing cost more CPU than a request's own work (docs/bench.md), so the
 * registry's `matchRoute` picks the route file (`app/api/v1/<path>/route.ts`, `{id}` is
 * the folder `[id]`) and its exported handler is called with a `Request`, as Next calls
 * it: the same `apiRoute` pipeline (door, CSRF, zod, domain errors), after the same
 * pipeline in server/app.ts (security headers, request id and metrics, body limit, the
 * registry's 404/405). Pages, /api/auth and /api/health stay with `inner` (Next).
 *
 * What Next added to an API answer is kept, so the headers do not change with the
 * server (tests/integration/api-router.test.ts compares them): Next's own compression
 * middleware (skipped where it would pass the answer through untouched), its `Vary`,
 * HEAD served from GET without a body, OPTIONS answered 204 with `Allow`, and the body
 * streamed (chunked). Only Next's cache-status header on the static OpenAPI document
 * (`x-nextjs-cache`) is gone.
 */
export async function withApiRouter(inner: TRequestServer): Promise<TRequestServer> {
  const routes = await loadRoutes();
  // The origin only frames the path and query the handlers read; the Host header is the
  // client's to choose, so it is not used.
  const origin = new URL(findRuntime()?.config.publicUrl ?? 'http://localhost').origin;
  return {
    handle(req, res) {
      const segments = apiSegments(req.url ?? '/');
      const found = segments && matchLoaded(routes, segments);
      const method = req.method ?? 'GET';
      const handler = found?.route.handlers[method === 'HEAD' ? 'GET' : method];
      if (!found || (!handler && method !== 'OPTIONS')) return inner.handle(req, res);
      return serve(req, res, found.route, found.params, handler, origin).catch((error: unknown) =>
        answerFailed(res, error),
      );
    },
    close: () => inner.close(),
  };
}

type THandler = (
  req: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response> | Response;

interface TLoadedRoute {
  path: TApiPath;
  /** Its `{…}` segments' positions and names. */
  params: { index: number; name: string }[];
  handlers: Partial<Record<string, THandler>>;
  allow: string;
}

/**
 * Every route file of the registry, imported once at start (a missing one stops the start
 * instead of failing its first request).
 */
async function loadRoutes(): Promise<Map<TApiPath, TLoadedRoute>> {
  const root = path.resolve('app/api/v1');
  const routes = new Map<TApiPath, TLoadedRoute>();
  for (const registryPath of Object.keys(API_REGISTRY) as TApiPath[]) {
    const folder = registryPath.replace(/\{([^}]+)\}/g, '[$1]');
    const file = pathToFileURL(path.join(root, folder, 'route.ts')).href;
    const module = (await import(file)) as Record<string, unknown>;
    const methods = Object.keys(API_REGISTRY[registryPath]);
    const handlers: Partial<Record<string, THandler>> = {};
    for (const method of methods) {
      if (typeof module[method] === 'function') handlers[method] = module[method] as THandler;
    }
    const params = registryPath
      .split('/')
      .slice(1)
      .flatMap((part, index) => (part.startsWith('{') ? [{ index, name: part.slice(1, -1) }] : []));
    routes.set(registryPath, { path: registryPath, params, handlers, allow: allowHeader(methods) });
  }
  return routes;
}

/** Literal segments win over `{id}`, as the registry's `matchRoute` decides. */
function matchLoaded(routes: Map<TApiPath, TLoadedRoute>, segments: readonly string[]) {
  const registryPath = matchRoute(segments);
  const route = registryPath && routes.get(registryPath);
  if (!route) return null;
  const params: Record<string, string> = {};
  for (const { index, name } of route.params) params[name] = segments[index]!;
  return { route, params };
}

/**
 * Next's answers to a route handler vary on its router's request headers, and its
 * compression middleware adds `Accept-Encoding`; kept as they were.
 */
const NEXT_VARY = 'rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch';

type TMiddleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
/** The compression middleware Next runs on every request it serves (next.config `compress`). */
const compress = (
  createRequire(import.meta.url)('next/dist/compiled/compression') as () => TMiddleware
)();

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  route: TLoadedRoute,
  params: Record<string, string>,
  handler: THandler | undefined,
  origin: string,
): Promise<void> {
  res.setHeader('vary', NEXT_VARY);
  if (!handler) {
    // OPTIONS, which Next answers itself for a route file.
    res.writeHead(204, { allow: route.allow });
    res.end();
    return;
  }
  const method = req.method ?? 'GET';
  let request: Request;
  try {
    request = await toRequest(req, method, origin);
  } catch (error) {
    // A client gone mid-body is answered (to nobody) as a streamed body cut off is, by
    // errorResponse: not the server's error.
    return writeResponse(res, errorResponse(error), false, req);
  }
  const response = await handler(request, { params: Promise.resolve(params) });
  await writeResponse(res, response, method === 'HEAD', req);
}

/** The middleware's own test for `Cache-Control: no-transform`. */
const NO_TRANSFORM = /(?:^|,)\s*?no-transform\s*?(?:,|$)/;

/**
 * Next's compression middleware on `res`, for an answer it may compress. One marked
 * `no-transform` (a small `json()` answer, the most common kind) it would pass through
 * untouched, headers included (no `Vary: Accept-Encoding` either), so it is not wrapped
 * at all: its wrappers, its content-type lookup and its debug calls were part of every
 * small answer's CPU (docs/bench.md, issue 18).
 */
function compressUnlessNoTransform(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
): boolean {
  if (NO_TRANSFORM.test(response.headers.get('cache-control') ?? '')) return false;
  compress(req, res, () => {});
  // A client gone before the end leaves the zlib stream open; Next ends it the same way.
  res.once('close', () => {
    if (!res.writableFinished) releaseCompressionStream(res);
  });
  return true;
}

/**
 * The Request a route handler reads: method, URL, headers (as the pipeline left them), body.
 * A JSON route's body of a declared length (at most the JSON limit: the pipeline refused
 * more) is read here and kept beside the Request for `readTextLimited`, as `json()` keeps
 * an answer's text: wrapping the socket in a web stream only for the handler to read it
 * back cost a small POST more CPU than its own statement (issue 18). Anything else — a
 * CSV import, a logo (bytes, never text), a body sent chunked — streams as it comes.
 */
async function toRequest(req: IncomingMessage, method: string, origin: string): Promise<Request> {
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (typeof value === 'string') headers.push([name, value]);
    else for (const one of value) headers.push([name, one]);
  }
  const url = origin + (req.url ?? '/');
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const path = url.slice(origin.length).split('?')[0]!;
  if (hasBody && req.headers['content-length'] && bodyLimitFor(path) === JSON_BODY_LIMIT) {
    const bytes = await readDeclared(req);
    // Not UTF-8: handed on as bytes, so the handler's read refuses it naming the body
    // (`readTextLimited`), as a streamed body's is.
    if (!isUtf8(bytes)) return new Request(url, { method, headers, body: new Uint8Array(bytes) });
    const request = new Request(url, { method, headers });
    keepBodyText(request, bytes.toString('utf8'));
    return request;
  }
  return new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    // @ts-expect-error undici needs it for a streamed body; the DOM type lacks it.
    duplex: 'half',
  });
}

/** A body of a declared length, whole (the HTTP parser ends it at that length). */
function readDeclared(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    // As Node reports a streamed body cut off (handler.ts `clientWentAway`).
    req.once('aborted', () => reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
  });
}

/**
 * Status, headers and body of `response` onto `res`, the body streamed as it comes;
 * compressed as Next would when `req` is given (the in-process tests' pages pass none).
 */
export async function writeResponse(
  res: ServerResponse,
  response: Response,
  headOnly: boolean,
  req?: IncomingMessage,
) {
  const compressing = req ? compressUnlessNoTransform(req, res, response) : false;
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.setHeader('set-cookie', cookies);
  // The head as the middleware left it when it passed an answer through: fixed before the
  // body, so the body is chunked as before (Node would otherwise count a whole body into
  // a Content-Length), and the framing does not change with compression.
  if (req && !compressing) res.writeHead(res.statusCode);
  if (!response.body || headOnly) {
    res.end();
    return;
  }
  // The same one chunk the stream would give, written without reading it back, with the
  // end of the chunked body in the same write.
  const text = jsonTextOf(response);
  if (text !== undefined) {
    res.end(text);
    return;
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    // The client went away: leaving the loop cancels the body (an export stops reading).
    if (res.destroyed) return;
    if (!res.write(chunk)) await drainedOrClosed(res);
  }
  res.end();
}

/**
 * An answer that failed: a 500 while its head is not written; once it is (a streamed
 * answer's head is written before its body is read, so even before any byte of it), the
 * connection broken — ending the body normally would hand the client a truncated answer
 * that looks whole (an export's CSV missing its last batches).
 */
export function answerFailed(res: ServerResponse, error: unknown): void {
  getLogger().error({ err: error }, 'api router: answer failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(500);
  res.end();
}

/**
 * Until `res` can take more, or is closed: a client that stops reading and then goes
 * away emits 'close' and never 'drain', and the wait (with the chunk, the answer and the
 * request it holds) would never end.
 */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Next's `releaseCompressionStream`: destroys the zlib stream the middleware left open. */
function releaseCompressionStream(res: ServerResponse): void {
  const noop = () => {};
  const stream = res.on('drain', noop) as unknown;
  if (stream === res || !(stream instanceof Duplex)) {
    res.off('drain', noop);
    return;
  }
  stream.destroy();
}
