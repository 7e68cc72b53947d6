import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { resolveActor } from '@/lib/server/authz/actor';
import { shownBrand } from '@/lib/server/services/brands/shown-brand';
import { brandForHost } from '@/lib/server/services/brands/brands';
import { directQuery } from '@/lib/server/db/direct-query';
import { getRuntime } from '@/lib/server/runtime';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { signInOverHttp } from '../fixtures/http-login';
import { fetchOnHost } from '../fixtures/host-fetch';

/**
 * White-label portals (issue 19) over the real sign-in, API and Socket.IO: on a brand's
 * hostname only that brand's subtree signs in, and a refusal there reads like an unknown
 * email's; a session opens only on the host it signed in on; the socket's allowed origins
 * follow the brands' hostnames as they change; the brand a page shows.
 */
const ADMIN = { email: 'admin@portals.test', password: 'portals-admin-pass' };
const PASSWORD = 'portals-user-pass-1';
const PANEL = 'panel.p.example';
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  // Another name of the panel itself, beside PUBLIC_URL's (here an address).
  PANEL_HOSTNAMES: `${PANEL}, old-panel.p.example`,
});

const PORTAL = 'portal.r1.example';
const ids = {} as Record<'C' | 'R1' | 'R1a' | 'R2', string>;
let admin: TApiClient;
const sockets: Socket[] = [];

const brand = (displayName: string, hostnames: string[], extra: Record<string, unknown> = {}) => ({
  displayName,
  primaryColor: '#0f766e',
  accentColor: '#b45309',
  supportEmail: 'help@nimbus.example',
  supportUrl: null,
  hostnames,
  ...extra,
});

/** The portal's host as a browser sends it (with the server's port). */
const portalHost = () => `${PORTAL}:${suite.server.port}`;
const portalOrigin = (hostname = PORTAL) => `http://${hostname}:${suite.server.port}`;

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@p.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@p.test' })).body.id;
  ids.R1a = (
    await admin.post('/resellers', { name: 'R1a', email: 'r1a@p.test', parentId: ids.R1 })
  ).body.id;
  for (const [email, accountId] of [
    ['ops@r1.p.test', ids.R1],
    ['ops@r1a.p.test', ids.R1a],
    ['ops@r2.p.test', ids.R2],
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

const onPortal = (email: string, password = PASSWORD) =>
  signInOverHttp(suite.server.url, email, password, {}, portalHost());

describe('sign-in on a brand’s hostname', () => {
  it('lets the brand’s subtree in and refuses everyone else like an unknown email', async () => {
    expect((await onPortal('ops@r1.p.test')).cookie).not.toBeNull();
    expect((await onPortal('ops@r1a.p.test')).cookie).not.toBeNull();

    const sibling = await onPortal('ops@r2.p.test');
    const carrier = await onPortal(ADMIN.email, ADMIN.password);
    const unknown = await onPortal('nobody@p.test');
    const wrong = await onPortal('ops@r1.p.test', 'not-the-password');
    for (const refused of [sibling, carrier, unknown, wrong]) expect(refused.cookie).toBeNull();
    // The answer says nothing about the email: the same status and body as a stranger's.
    expect({ status: sibling.status, body: sibling.body }).toEqual({
      status: unknown.status,
      body: unknown.body,
    });
    expect(carrier.body).toBe(unknown.body);

    // A script asking for a token there is held to the same rule, in the same words.
    const token = (email: string) =>
      fetchOnHost(`${suite.server.url}/api/v1/auth/token`, portalHost(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD, name: 'script' }),
      }).then(async (response) => ({ status: response.status, body: await response.json() }));
    expect((await token('ops@r1a.p.test')).status).toBe(201);
    const outsider = await token('ops@r2.p.test');
    expect(outsider.status).toBe(401);
    expect(outsider).toEqual(await token('nobody@p.test'));

    // Their own way in still works.
    expect((await signInOverHttp(suite.server.url, 'ops@r2.p.test', PASSWORD)).cookie).not.toBe(
      null,
    );
  });
});

describe('the panel’s own hostnames', () => {
  it('are nobody’s portal: no brand may claim one, and one held from before is ignored', async () => {
    expect(getRuntime().config.panelHostnames).toEqual(['127.0.0.1', PANEL, 'old-panel.p.example']);
    const r1 = await apiClient(suite.server.url, 'ops@r1.p.test', PASSWORD);
    const current = (await r1.get(`/accounts/${ids.R1}/brand`)).body.brand;
    const claim = await r1.put(
      `/accounts/${ids.R1}/brand`,
      brand('Nimbus', [PORTAL, 'Panel.P.example', 'old-panel.p.example'], {
        version: current.version,
      }),
    );
    expect(claim.status).toBe(400);
    expect(claim.body.error.fields).toEqual({
      'hostnames.1': 'is the panel’s own hostname',
      'hostnames.2': 'is the panel’s own hostname',
    });
    // Nor the carrier for itself: the whole installation signs in there.
    const own = await admin.get(`/accounts/${ids.C}/brand`);
    const carrierClaim = await admin.put(
      `/accounts/${ids.C}/brand`,
      brand('Carrier Co', [PANEL], { version: own.body.brand.version }),
    );
    expect(carrierClaim.status).toBe(400);
    expect(Object.keys(carrierClaim.body.error.fields)).toEqual(['hostnames.0']);
    expect((await r1.get(`/accounts/${ids.R1}/brand`)).body.brand).toEqual(current);

    // A brand holding one from before the rule (written straight into the table): the name
    // finds no portal, and everyone signs in there, the carrier's admin included.
    const em = suite.orm.em.fork();
    await directQuery(em, `insert into brand_hostname (hostname, brand_id) values (?, ?)`, [
      PANEL,
      ids.R1,
    ]);
    try {
      expect(await brandForHost(em, `${PANEL}:${suite.server.port}`)).toBeNull();
      const host = `${PANEL}:${suite.server.port}`;
      const carrier = await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password, {}, host);
      expect(carrier.cookie).not.toBeNull();
      const token = await fetchOnHost(`${suite.server.url}/api/v1/auth/token`, host, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ops@r2.p.test', password: PASSWORD, name: 'script' }),
      });
      expect(token.status).toBe(201);
    } finally {
      await directQuery(em, `delete from brand_hostname where hostname = ?`, [PANEL]);
    }

    // The live connection opens from another of its names (no brand's) too.
    const other = `old-panel.p.example:${suite.server.port}`;
    const signedIn = await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password, {}, other);
    expect(
      await connect({ cookie: signedIn.cookie!, host: other, origin: `http://${other}` }),
    ).toMatchObject({ hello: { user: { email: ADMIN.email } } });
  });
});

describe('a session is bound to the host it signed in on', () => {
  const me = (cookie: string, host?: string) =>
    (host
      ? fetchOnHost(`${suite.server.url}/api/v1/me`, host, { headers: { cookie } })
      : fetch(`${suite.server.url}/api/v1/me`, { headers: { cookie } })
    ).then((response) => response.status);

  it('for the API: the cookie replayed on another host is no session', async () => {
    const portal = (await onPortal('ops@r1.p.test')).cookie!;
    const main = (await signInOverHttp(suite.server.url, 'ops@r1.p.test', PASSWORD)).cookie!;
    expect(await me(portal, portalHost())).toBe(200);
    expect(await me(portal)).toBe(401);
    expect(await me(main)).toBe(200);
    expect(await me(main, portalHost())).toBe(401);
    // The host decides, not its case or port.
    expect(await me(portal, PORTAL.toUpperCase())).toBe(200);
  });

  it('for writes: from the portal’s own pages only', async () => {
    const cookie = (await onPortal('ops@r1.p.test')).cookie!;
    const rename = (origin: string) =>
      fetchOnHost(`${suite.server.url}/api/v1/accounts/${ids.R1}/brand`, portalHost(), {
        method: 'PUT',
        headers: { cookie, origin, 'content-type': 'application/json' },
        body: JSON.stringify(brand('Nimbus', [PORTAL], { version: 1 })),
      }).then(async (response) => ({ status: response.status, body: await response.json() }));
    expect((await rename(new URL(suite.server.url).origin)).body.error.code).toBe('cross_origin');
    expect((await rename(portalOrigin())).status).toBe(200);
  });

  it('for sockets: the handshake on another host is refused', async () => {
    const cookie = (await onPortal('ops@r1.p.test')).cookie!;
    expect(await connect({ cookie, host: portalHost(), origin: portalOrigin() })).toMatchObject({
      hello: { user: { email: 'ops@r1.p.test' } },
    });
    expect(await connect({ cookie })).toMatchObject({
      error: { data: { code: 'unauthenticated' } },
    });
  });
});

describe('the socket’s allowed origins', () => {
  it('follow a brand’s hostnames as they are added and removed', async () => {
    const { body } = await requestToken(suite.server.url, 'ops@r2.p.test', PASSWORD);
    const r2 = await apiClient(suite.server.url, 'ops@r2.p.test', PASSWORD);
    const origin = portalOrigin('calls.r2.example');
    const attempt = () => connect({ token: body.token, origin });

    expect(await attempt()).toMatchObject({ error: { message: 'websocket error' } });
    expect(await connect({ token: body.token })).toHaveProperty('hello');
    expect(
      (await r2.put(`/accounts/${ids.R2}/brand`, brand('R2 Voice', ['calls.r2.example']))).status,
    ).toBe(201);
    expect(await attempt()).toHaveProperty('hello');
    // Another port or scheme is another origin.
    expect(await connect({ token: body.token, origin: 'https://calls.r2.example' })).toHaveProperty(
      'error',
    );
    expect((await r2.del(`/accounts/${ids.R2}/brand`)).status).toBe(204);
    expect(await attempt()).toMatchObject({ error: { message: 'websocket error' } });
    expect(await attempt()).toMatchObject({ error: { message: 'websocket error' } });
  });
});

describe('a session’s socket opens from its own host’s pages only', () => {
  it('refuses another brand’s hostname as the origin of a handshake with the cookie', async () => {
    // Signed in on the panel (one of its names); a page on a brand's registered hostname
    // — a sibling subdomain a reseller controls — would send that cookie along.
    const panel = `${PANEL}:${suite.server.port}`;
    const { cookie } = await signInOverHttp(suite.server.url, 'ops@r1.p.test', PASSWORD, {}, panel);
    expect(await connect({ cookie: cookie!, host: panel, origin: portalOrigin() })).toMatchObject({
      error: { message: 'websocket error' },
    });
    // From the panel's own page it opens.
    expect(
      await connect({ cookie: cookie!, host: panel, origin: `http://${panel}` }),
    ).toMatchObject({ hello: { user: { email: 'ops@r1.p.test' } } });

    // On the brand's hostname, from its own pages it opens; from the panel's it does not.
    const portal = (await onPortal('ops@r1.p.test')).cookie!;
    expect(
      await connect({ cookie: portal, host: portalHost(), origin: portalOrigin() }),
    ).toMatchObject({ hello: { user: { email: 'ops@r1.p.test' } } });
    expect(
      await connect({ cookie: portal, host: portalHost(), origin: `http://${panel}` }),
    ).toMatchObject({ error: { message: 'websocket error' } });

    // An API token (no cookie) is judged by itself: any origin of the installation.
    const { body } = await requestToken(suite.server.url, 'ops@r1.p.test', PASSWORD);
    expect(await connect({ token: body.token, host: panel, origin: portalOrigin() })).toMatchObject(
      { hello: { user: { email: 'ops@r1.p.test' } } },
    );
  });
});

describe('the brand a page shows', () => {
  it('is the portal’s there, else the nearest at or above the person’s account', async () => {
    const em = suite.orm.em.fork();
    const actorOf = async (email: string) => {
      const [row] = await em
        .getConnection()
        .execute<{ id: string; session_version: number }[]>(
          'select id, session_version from app_user where email = ?',
          [email],
        );
      return (await resolveActor(em, { userId: row!.id, sessionVersion: row!.session_version }))!;
    };
    const [r1a, r2, carrier] = await Promise.all([
      actorOf('ops@r1a.p.test'),
      actorOf('ops@r2.p.test'),
      actorOf(ADMIN.email),
    ]);
    const shown = async (host: string | null, actor: typeof r1a | null) => {
      const { displayName, portal } = await shownBrand(em, host, actor);
      return { displayName, portal };
    };
    // Nobody signed in: the portal's brand, else the product's.
    expect(await shown(PORTAL, null)).toEqual({ displayName: 'Nimbus', portal: true });
    expect(await shown('127.0.0.1', null)).toEqual({
      displayName: 'Reseller Panel',
      portal: false,
    });
    // On the main URL, the nearest brand above: R1's for R1a, never the carrier's.
    expect(await shown('127.0.0.1', r1a)).toEqual({ displayName: 'Nimbus', portal: false });
    expect(await shown(PORTAL, r1a)).toEqual({ displayName: 'Nimbus', portal: true });
    // R2 has none: the carrier's applies to it. Its own brand wins once it has one.
    expect(await shown('127.0.0.1', r2)).toEqual({ displayName: 'Carrier Co', portal: false });
    expect(await shown('127.0.0.1', carrier)).toEqual({
      displayName: 'Carrier Co',
      portal: false,
    });
    // Someone from outside a portal's subtree is never shown that portal's brand.
    expect((await shown(PORTAL, r2)).displayName).toBe('Carrier Co');
  });
});

type TConnection =
  { socket: Socket; hello: unknown } | { error: { message: string; data?: { code?: string } } };

function connect(options: {
  cookie?: string;
  token?: string;
  host?: string;
  origin?: string;
}): Promise<TConnection> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.host) headers.host = options.host;
  if (options.origin) headers.origin = options.origin;
  const socket = io(suite.server.url, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: headers,
    auth: options.token ? { token: options.token } : {},
  });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('hello', (hello) => resolve({ socket, hello }));
    socket.once('connect_error', (error) =>
      resolve({ error: { message: error.message, data: (error as { data?: never }).data } }),
    );
  });
}

describe('a portal hostname that goes', () => {
  const me = (cookie: string, host: string) =>
    fetchOnHost(`${suite.server.url}/api/v1/me`, host, { headers: { cookie } }).then(
      (response) => response.status,
    );
  it('ends the sessions signed in on it: no answer there, and none on the next brand to claim it', async () => {
    const host = 'leaving.r1.example';
    const hostWithPort = `${host}:${suite.server.port}`;
    const r1 = await apiClient(suite.server.url, 'ops@r1.p.test', PASSWORD);
    const current = (await r1.get(`/accounts/${ids.R1}/brand`)).body.brand;
    const added = await r1.put(`/accounts/${ids.R1}/brand`, {
      ...brand('Nimbus', [PORTAL, host]),
      version: current.version,
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const cookie = (
      await signInOverHttp(suite.server.url, 'ops@r1.p.test', PASSWORD, {}, hostWithPort)
    ).cookie!;
    expect(await me(cookie, hostWithPort)).toBe(200);
    const other = (await onPortal('ops@r1.p.test')).cookie!;

    const dropped = await r1.put(`/accounts/${ids.R1}/brand`, {
      ...brand('Nimbus', [PORTAL]),
      version: added.body.version,
    });
    expect(dropped.status, JSON.stringify(dropped.body)).toBe(200);
    expect(await me(cookie, hostWithPort)).toBe(401);
    // Another hostname's sessions are untouched.
    expect(await me(other, portalHost())).toBe(200);
    // Its own people's sessions, ended by its own edit: the audit says who did it.
    const ended = (
      (await r1.get('/audit?resource=sessions&op=deleted')).body.items as {
        summary: Record<string, unknown> | null;
        actor: unknown;
      }[]
    ).filter((entry) => entry.summary?.hostRemoved);
    expect(ended.length).toBeGreaterThan(0);
    for (const entry of ended) {
      expect(entry.actor).toMatchObject({ kind: 'user', email: 'ops@r1.p.test' });
    }

    // R2 claims it: R1's old cookie opens nothing on R2's portal.
    const r2 = await apiClient(suite.server.url, 'ops@r2.p.test', PASSWORD);
    const claimed = await r2.put(`/accounts/${ids.R2}/brand`, brand('R2 Voice', [host]));
    expect([200, 201]).toContain(claimed.status);
    expect(await me(cookie, hostWithPort)).toBe(401);
    expect((await r2.del(`/accounts/${ids.R2}/brand`)).status).toBe(204);
  });

  it('ends the sessions of outsiders opened on a hostname before a brand claimed it', async () => {
    // Signed in on a name no brand held yet (DNS pointed at the panel before the brand
    // was set up): anyone may, as on the panel's own names.
    const host = 'early.r1.example';
    const hostWithPort = `${host}:${suite.server.port}`;
    const signIn = async (email: string, password = PASSWORD) =>
      (await signInOverHttp(suite.server.url, email, password, {}, hostWithPort)).cookie!;
    const outsider = await signIn('ops@r2.p.test');
    const carrier = await signIn(ADMIN.email, ADMIN.password);
    const insider = await signIn('ops@r1a.p.test');
    for (const cookie of [outsider, carrier, insider]) {
      expect(await me(cookie, hostWithPort)).toBe(200);
    }
    const r1 = await apiClient(suite.server.url, 'ops@r1.p.test', PASSWORD);
    const current = (await r1.get(`/accounts/${ids.R1}/brand`)).body.brand;
    const claimed = await r1.put(`/accounts/${ids.R1}/brand`, {
      ...brand('Nimbus', [PORTAL, host]),
      version: current.version,
    });
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
    // The portal signs in only R1's subtree: the others' sessions there end with the
    // claim, as a fresh sign-in of theirs would be refused; its own people's stay.
    expect(await me(outsider, hostWithPort)).toBe(401);
    expect(await me(carrier, hostWithPort)).toBe(401);
    expect(await me(insider, hostWithPort)).toBe(200);
    // A sibling's audit tells it its session ended with a claim, never who claimed the
    // name (nor does the carrier's: the system ended it).
    for (const [email, password] of [
      ['ops@r2.p.test', PASSWORD],
      [ADMIN.email, ADMIN.password],
    ] as const) {
      const reader = await apiClient(suite.server.url, email, password);
      const ended = (
        (await reader.get('/audit?resource=sessions&op=deleted')).body.items as {
          summary: Record<string, unknown> | null;
          actor: unknown;
        }[]
      ).filter((entry) => entry.summary?.hostClaimed);
      expect(ended.length, email).toBeGreaterThan(0);
      for (const entry of ended) expect(entry.actor).toEqual({ kind: 'account', name: 'System' });
    }
    const dropped = await r1.put(`/accounts/${ids.R1}/brand`, {
      ...brand('Nimbus', [PORTAL]),
      version: claimed.body.version,
    });
    expect(dropped.status).toBe(200);
  });
});
