import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { resolveActor, type TActor } from '@/lib/server/authz/actor';
import { deleteBrand, putBrand } from '@/lib/server/services/brands/brands';
import { ZBrandPut } from '@/lib/shared/schemas/brands';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { signInOverHttp } from '../fixtures/http-login';
import { fetchOnHost } from '../fixtures/host-fetch';

/**
 * White-label portals (issue 19) on the production server (spawned, `npm run build`
 * first): the sign-in page and the panel in the brand of the Host they are reached on, or
 * of the signed-in person's account; a page's cookie bound to its host; and the socket's
 * allowed origins following a hostname committed by another process (this one), which
 * the server learns through its change-log tailer only.
 */
const ADMIN = { email: 'admin@brand-pages.test', password: 'brand-pages-admin-pass' };
const PASSWORD = 'brand-pages-user-pass';
const suite = usePanelSuite(
  { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
  { spawned: true },
);

const PORTAL = 'portal.nimbus.example';
const ids = {} as Record<'C' | 'R1' | 'R1a' | 'R2', string>;
let admin: TApiClient;
const sockets: Socket[] = [];

const brand = (displayName: string, hostnames: string[], version?: number) =>
  ZBrandPut.parse({
    displayName,
    primaryColor: '#0f766e',
    accentColor: '#b45309',
    supportEmail: 'help@nimbus.example',
    supportUrl: 'https://help.nimbus.example/',
    hostnames,
    ...(version ? { version } : {}),
  });

const portalHost = () => `${PORTAL}:${suite.server.port}`;

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@bp.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@bp.test' })).body.id;
  ids.R1a = (
    await admin.post('/resellers', { name: 'R1a', email: 'r1a@bp.test', parentId: ids.R1 })
  ).body.id;
  for (const [email, accountId] of [
    ['ops@r1a.bp.test', ids.R1a],
    ['ops@r2.bp.test', ids.R2],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId,
      groupId: group.id,
    });
    expect(made.status).toBe(201);
  }
  expect((await admin.put(`/accounts/${ids.C}/brand`, brand('Carrier Co', []))).status).toBe(201);
  expect((await admin.put(`/accounts/${ids.R1}/brand`, brand('Nimbus', [PORTAL]))).status).toBe(
    201,
  );
});
afterAll(() => {
  for (const socket of sockets) socket.close();
});

const page = async (path: string, host?: string, cookie?: string) => {
  const headers = cookie ? { cookie } : undefined;
  const response = host
    ? await fetchOnHost(`${suite.server.url}${path}`, host, { headers })
    : await fetch(`${suite.server.url}${path}`, { headers, redirect: 'manual' });
  return { response, html: await response.text() };
};

/** The text of the element marked `data-testid="brand-name"`. */
const brandName = (html: string) => /data-testid="brand-name"[^>]*>([^<]*)</.exec(html)?.[1];

describe('the sign-in page', () => {
  it('on a brand’s hostname is that brand’s, its colours as CSS variables', async () => {
    const { response, html } = await page('/login', portalHost());
    expect(response.status).toBe(200);
    expect(brandName(html)).toBe('Nimbus');
    expect(html).toContain('<title>Sign in · Nimbus</title>');
    expect(html).toContain('help@nimbus.example');
    expect(html).toContain('data-brand=""');
    expect(html).not.toContain('Carrier Co');
    expect(html).not.toContain('Reseller Panel');
    // The colours as variables on <html>: a style attribute, which the CSP allows.
    expect(html).toContain('style="--brand-primary:#0f766e;--brand-accent:#b45309"');
    expect(response.headers.get('content-security-policy')).toContain(
      "style-src-attr 'unsafe-inline'",
    );
  });

  it('on the main URL is the product’s own', async () => {
    const { html } = await page('/login');
    expect(brandName(html)).toBe('Reseller Panel');
    expect(html).not.toContain('data-brand=""');
    expect(html).not.toContain('--brand-primary');
    expect(html).not.toContain('Nimbus');
  });
});

describe('the brand’s logo', () => {
  const PNG = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  const logoSrc = (html: string) => /<img[^>]*data-testid="brand-logo"[^>]*>/.exec(html)?.[0];

  it('shows on the portal’s sign-in page and in the header of the people below it', async () => {
    const put = await admin.raw('PUT', `/accounts/${ids.R1}/brand/logo`, PNG, 'image/png');
    expect(put.status).toBe(200);
    const { logoUrl } = JSON.parse(put.text) as { logoUrl: string };
    expect(logoUrl).toMatch(/^\/api\/v1\/logos\/[0-9a-f]{64}$/);

    // Decorative beside the name (which stays the text), served by the panel itself.
    const signIn = await page('/login', portalHost());
    expect(logoSrc(signIn.html)).toContain(`src="${logoUrl}"`);
    expect(logoSrc(signIn.html)).toContain('alt=""');
    expect(brandName(signIn.html)).toBe('Nimbus');
    const image = await fetchOnHost(`${suite.server.url}${logoUrl}`, portalHost());
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer())).toEqual(PNG);

    const r1a = (await signInOverHttp(suite.server.url, 'ops@r1a.bp.test', PASSWORD)).cookie!;
    expect(logoSrc((await page('/', undefined, r1a)).html)).toContain(`src="${logoUrl}"`);
    // Not the carrier's main sign-in page, nor a person under another brand.
    expect(logoSrc((await page('/login')).html)).toBeUndefined();
    const r2 = (await signInOverHttp(suite.server.url, 'ops@r2.bp.test', PASSWORD)).cookie!;
    expect(logoSrc((await page('/', undefined, r2)).html)).toBeUndefined();
  });
});

describe('the panel', () => {
  it('on the main URL shows the nearest brand above the person, never the carrier’s past it', async () => {
    const r1a = (await signInOverHttp(suite.server.url, 'ops@r1a.bp.test', PASSWORD)).cookie!;
    const overview = await page('/', undefined, r1a);
    expect(brandName(overview.html)).toBe('Nimbus');
    expect(overview.html).toContain('<title>Overview · Nimbus</title>');
    expect(overview.html).not.toContain('Carrier Co');
    const r2 = (await signInOverHttp(suite.server.url, 'ops@r2.bp.test', PASSWORD)).cookie!;
    expect(brandName((await page('/', undefined, r2)).html)).toBe('Carrier Co');
  });

  it('keeps a portal’s session on the portal: on another host it is signed out', async () => {
    const login = await signInOverHttp(
      suite.server.url,
      'ops@r1a.bp.test',
      PASSWORD,
      {},
      portalHost(),
    );
    const cookie = login.cookie!;
    // Host-only: no Domain attribute, so a browser never sends it to another host.
    expect(cookie).toContain('next-auth.session-token');
    const onPortal = await page('/', portalHost(), cookie);
    expect(onPortal.response.status).toBe(200);
    expect(brandName(onPortal.html)).toBe('Nimbus');
    const elsewhere = await page('/', undefined, cookie);
    expect(elsewhere.response.status).toBe(307);
    expect(elsewhere.response.headers.get('location')).toMatch(/\/login$/);
  });

  it('sets its session cookie host-only', async () => {
    const csrf = await fetchOnHost(`${suite.server.url}/api/auth/csrf`, portalHost());
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const jar = csrf.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const signIn = await fetchOnHost(
      `${suite.server.url}/api/auth/callback/credentials`,
      portalHost(),
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar },
        body: new URLSearchParams({
          csrfToken,
          email: 'ops@r1a.bp.test',
          password: PASSWORD,
          json: 'true',
        }).toString(),
      },
    );
    const session = signIn.headers
      .getSetCookie()
      .find((line) => line.startsWith('next-auth.session-token='));
    expect(session).toBeDefined();
    expect(session).not.toMatch(/domain=/i);
  });
});

describe('the socket’s allowed origins', () => {
  it('follow a hostname another process commits, live', async () => {
    const { body } = await requestToken(suite.server.url, 'ops@r2.bp.test', PASSWORD);
    const origin = `http://calls.r2.example:${suite.server.port}`;
    const attempt = () => connect(body.token, origin);
    expect(await attempt()).toBe('refused');

    const em = suite.orm.em.fork();
    const [row] = await em
      .getConnection()
      .execute<{ id: string; session_version: number }[]>(
        'select id, session_version from app_user where email = ?',
        ['ops@r2.bp.test'],
      );
    const actor = (await resolveActor(em, {
      userId: row!.id,
      sessionVersion: row!.session_version,
    })) as TActor;
    await putBrand(em.fork(), actor, ids.R2, brand('R2 Voice', ['calls.r2.example']));
    // The server learns it from the change log's NOTIFY: try until it has.
    while ((await attempt()) !== 'accepted');

    await deleteBrand(em.fork(), actor, ids.R2);
    while ((await attempt()) !== 'refused');
    // And it stays refused.
    expect(await attempt()).toBe('refused');
  });
});

function connect(token: string, origin: string): Promise<'accepted' | 'refused'> {
  const socket = io(suite.server.url, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: { origin },
    auth: { token },
  });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('hello', () => {
      socket.close();
      resolve('accepted');
    });
    socket.once('connect_error', () => resolve('refused'));
  });
}
