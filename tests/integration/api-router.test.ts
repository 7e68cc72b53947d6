import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseEnv } from '@/lib/server/env';
import { COMPRESS_MIN_BYTES } from '@/lib/server/api/handler';
import { findFreePort } from '@/lib/server/db/embedded';
import { startPanel, type TPanel } from '@/server/app';
import { withApiRouter } from '@/server/api-router';
import { createNextRequestServer } from '@/server/next-server';
import { createTestDatabase, type TTestDatabase } from '../fixtures/test-database';
import { TEST_AUTH_SECRET } from '../fixtures/panel-server';
import { signInOverHttp } from '../fixtures/http-login';

/**
 * Issue 14: /api/v1 is answered by the API router (server/api-router.ts) instead of
 * Next's per-request routing. The same requests go to the panel twice on the same
 * database, port and build — once with Next answering /api/v1 as before, once with the
 * router in front — and every answer must be the same: status, body and every header
 * (security headers, Vary, compression, framing), but the per-response values (date,
 * request id, CSP nonce). The one header that goes is Next's cache status on the static
 * OpenAPI document (`x-nextjs-cache`). Spawned project: it needs the production build.
 */
const ADMIN = { email: 'admin@router.test', password: 'router-admin-password' };

let db: TTestDatabase;
let port: number;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase(inject('testDatabase'), { migrated: true });
  port = await findFreePort();
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await db?.drop();
});

async function start(router: boolean): Promise<TPanel> {
  process.env.LOG_LEVEL ??= 'warn';
  const env = parseEnv({
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    AUTH_SECRET: TEST_AUTH_SECRET,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: base,
  });
  return startPanel(env, {
    dev: false,
    async createRequestServer(httpServer, config) {
      const next = await createNextRequestServer(httpServer, config, false);
      return router ? withApiRouter(next) : next;
    },
  });
}

interface TAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One raw HTTP exchange on a connection of its own (a refused body closes its connection):
 * no client-side decoding, every header as sent.
 */
function exchange(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer[],
): Promise<TAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const gzipped = res.headers['content-encoding'] === 'gzip';
        resolve({
          status: res.statusCode!,
          headers: normalized(res.headers),
          body: (gzipped ? gunzipSync(raw) : raw).toString('utf8'),
        });
      });
    });
    req.on('error', (error) => reject(new Error(`${method} ${path}: ${error.message}`)));
    // Several chunks and no Content-Length: a body sent chunked.
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Headers with the per-response values blanked. */
function normalized(headers: Record<string, string | string[] | undefined>) {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'date') continue;
    out[name] = Array.isArray(value) ? value.join('\n') : value;
  }
  if (out['x-request-id']) out['x-request-id'] = '(id)';
  if (out['content-security-policy']) {
    out['content-security-policy'] = out['content-security-policy'].replace(
      /'nonce-[^']+'/g,
      "'nonce-…'",
    );
  }
  return out;
}

/**
 * A reseller with a customer and a card with a rate, made by the first run and found by
 * the second, so both ask about the same rows.
 */
async function arranged(bearer: Record<string, string>) {
  const post = async (path: string, body: unknown) =>
    JSON.parse(
      (
        await exchange(
          'POST',
          path,
          { ...bearer, 'content-type': 'application/json' },
          JSON.stringify(body),
        )
      ).body,
    );
  const list = async (path: string) =>
    (JSON.parse((await exchange('GET', path, bearer)).body) as { items: { id: string }[] }).items;
  if ((await list('/api/v1/customers')).length === 0) {
    const reseller = await post('/api/v1/resellers', { name: 'Router R', email: 'r@router.test' });
    // Enough customers for their list to pass `COMPRESS_MIN_BYTES` (compressed).
    for (const name of Array.from({ length: 30 }, (_, i) => `Router C${i + 1}`))
      await post('/api/v1/customers', { name, parentId: reseller.id, creditLimit: '10' });
    const card = await post('/api/v1/cards', {
      name: 'Upstream',
      currency: 'EUR',
      kind: 'provider',
    });
    await exchange(
      'PUT',
      `/api/v1/cards/${card.id}/rates`,
      { ...bearer, 'content-type': 'application/json' },
      JSON.stringify({ rates: [{ prefix: '44', destination: 'UK', rate: '0.01' }] }),
    );
  }
  const [customer] = (await list('/api/v1/customers')) as { id: string; version: number }[];
  const [card] = await list('/api/v1/cards');
  return { customer: customer!, card: card! };
}

/** Everything the API answers differently by: methods, credentials, errors, sizes, types. */
async function answers(): Promise<Record<string, TAnswer>> {
  const token = await exchange(
    'POST',
    '/api/v1/auth/token',
    { 'content-type': 'application/json' },
    JSON.stringify({ ...ADMIN, name: 'router test' }),
  );
  const bearer = { authorization: `Bearer ${JSON.parse(token.body).token}` };
  const gzip = { 'accept-encoding': 'gzip' };
  const { cookie } = await signInOverHttp(base, ADMIN.email, ADMIN.password);
  const { customer, card } = await arranged(bearer);
  const missing = '00000000-0000-4000-8000-000000000000';
  const big = Array.from({ length: 12 }, () => Buffer.alloc(100_000, 'x'));
  return {
    'no credential': await exchange('GET', '/api/v1/me'),
    'no credential, gzip': await exchange('GET', '/api/v1/me', gzip),
    me: await exchange('GET', '/api/v1/me', bearer),
    'me, gzip': await exchange('GET', '/api/v1/me', { ...bearer, ...gzip }),
    'me, cookie': await exchange('GET', '/api/v1/me', { cookie: cookie! }),
    'me, HEAD': await exchange('HEAD', '/api/v1/me', bearer),
    'customers, OPTIONS': await exchange('OPTIONS', '/api/v1/customers'),
    'customers list, gzip': await exchange('GET', '/api/v1/customers', { ...bearer, ...gzip }),
    'customers, bad query': await exchange('GET', '/api/v1/customers?limit=abc', bearer),
    customer: await exchange('GET', `/api/v1/customers/${customer.id}`, bearer),
    'customer, gzip': await exchange('GET', `/api/v1/customers/${customer.id}`, {
      ...bearer,
      ...gzip,
    }),
    'customer missing': await exchange('GET', `/api/v1/customers/${missing}`, bearer),
    'customer malformed id': await exchange('GET', '/api/v1/customers/x%2Fy', bearer),
    'stale patch': await exchange(
      'PATCH',
      `/api/v1/customers/${customer.id}`,
      { ...bearer, 'content-type': 'application/json' },
      JSON.stringify({ version: customer.version + 100, name: 'Stale' }),
    ),
    'cookie write, no origin': await exchange(
      'POST',
      '/api/v1/customers',
      { cookie: cookie!, 'content-type': 'application/json' },
      JSON.stringify({ name: 'No origin' }),
    ),
    'cookie write, text/plain': await exchange(
      'POST',
      '/api/v1/customers',
      { cookie: cookie!, origin: base, 'content-type': 'text/plain' },
      JSON.stringify({ name: 'Plain' }),
    ),
    'chunked body over the limit': await exchange(
      'POST',
      '/api/v1/resellers',
      { ...bearer, 'content-type': 'application/json' },
      big,
    ),
    'wrong password': await exchange(
      'POST',
      '/api/v1/auth/token',
      { 'content-type': 'application/json' },
      JSON.stringify({ email: ADMIN.email, password: 'not the password' }),
    ),
    'events, gzip': await exchange('GET', '/api/v1/events?since=0', { ...bearer, ...gzip }),
    'rates export': await exchange('GET', `/api/v1/cards/${card.id}/rates/export`, {
      ...bearer,
      ...gzip,
    }),
    openapi: await exchange('GET', '/api/v1/openapi.json', gzip),
  };
}

describe('the API router answers /api/v1 as Next did', () => {
  let viaNext: Record<string, TAnswer>;
  let viaRouter: Record<string, TAnswer>;

  beforeAll(async () => {
    for (const router of [false, true]) {
      const panel = await start(router);
      try {
        if (router) viaRouter = await answers();
        else viaNext = await answers();
      } finally {
        await panel.close();
      }
    }
  }, 180_000);

  it('covers what it means to: errors, compression, HEAD, OPTIONS, CSV', () => {
    expect(viaNext['customer']!.status).toBe(200);
    expect(viaNext['no credential, gzip']!.headers['content-encoding']).toBe('gzip');
    expect(viaNext['openapi']!.headers['content-encoding']).toBe('gzip');
    // Below `COMPRESS_MIN_BYTES` a JSON answer goes as it is, above it gzipped: one
    // customer is small; /me grows with the grant catalog, so it is judged by size.
    expect(viaNext['customer, gzip']!.headers['content-encoding']).toBeUndefined();
    expect(viaNext['me, gzip']!.headers['content-encoding'] === 'gzip').toBe(
      Buffer.byteLength(viaNext['me']!.body) >= COMPRESS_MIN_BYTES,
    );
    expect(Buffer.byteLength(viaNext['customers list, gzip']!.body)).toBeGreaterThanOrEqual(
      COMPRESS_MIN_BYTES,
    );
    expect(viaNext['customers list, gzip']!.headers['content-encoding']).toBe('gzip');
    expect(viaNext['chunked body over the limit']!.status).toBe(413);
    expect(viaNext['customers, OPTIONS']!.status).toBe(204);
    expect(viaNext['rates export']!.headers['content-type']).toContain('text/csv');
    expect(viaNext['openapi']!.headers['x-nextjs-cache']).toBe('HIT');
  });

  it('gives every answer the same status, headers and body', () => {
    const { ['x-nextjs-cache']: cacheStatus, ...openapiHeaders } = viaNext['openapi']!.headers;
    expect(cacheStatus).toBe('HIT');
    const expected: Record<string, TAnswer> = {
      ...viaNext,
      openapi: { ...viaNext['openapi']!, headers: openapiHeaders },
    };
    for (const name of Object.keys(expected)) {
      // The log grew between the runs (a token and a session each): its body differs.
      const volatile = name === 'events, gzip' ? { body: '' } : {};
      expect({ name, ...viaRouter[name], ...volatile }).toEqual({
        name,
        ...expected[name],
        ...volatile,
      });
    }
  });
});
