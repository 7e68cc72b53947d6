import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { signInOverHttp } from '../fixtures/http-login';

/**
 * Behind a reverse proxy (TRUST_PROXY_HOPS=1): the sign-in throttle keys on the client's
 * address as the proxy forwarded it, not on the proxy's own, and a brand's portal is
 * found by the Host the client asked for (X-Forwarded-Host). Every request here comes
 * from 127.0.0.1, the proxy; what a client writes itself left of the proxy's entry is
 * never believed.
 */
const ADMIN = { email: 'admin@proxy.test', password: 'proxy-admin-pass' };
const PASSWORD = 'proxy-user-pass-1';
const BUDGET = 3;
const PORTAL = 'portal.proxy.example';
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  TRUST_PROXY_HOPS: '1',
  LOGIN_IP_FAILURES: String(BUDGET),
  LOGIN_IP_WINDOW_SECONDS: '600',
  // The pair throttle's delay stays out of the way: each email is tried once.
  LOGIN_FREE_FAILURES: '5',
});

let admin: TApiClient;

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  const reseller = (await admin.post('/resellers', { name: 'Nimbus', email: 'n@proxy.test' })).body;
  const user = await admin.post('/users', {
    email: 'ops@nimbus.proxy.test',
    password: PASSWORD,
    accountId: reseller.id,
    groupId: group.id,
  });
  expect(user.status).toBe(201);
  const brand = await admin.put(`/accounts/${reseller.id}/brand`, {
    displayName: 'Nimbus',
    primaryColor: '#0f766e',
    accentColor: '#b45309',
    supportEmail: 'help@nimbus.example',
    supportUrl: null,
    hostnames: [PORTAL],
  });
  expect(brand.status).toBe(201);
});

beforeEach(async () => {
  await suite.orm.em.fork().execute('delete from login_ip_throttle');
});

/** `POST /auth/token` through "the proxy": the headers it would forward. */
function issue(email: string, password: string, forwarded: Record<string, string>) {
  const url = new URL('/api/v1/auth/token', suite.server.url);
  return new Promise<number>((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...forwarded } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ email, password, name: 'script' }));
  });
}

const from = (address: string) => ({ 'x-forwarded-for': address });

describe('the sign-in throttle behind a proxy', () => {
  it("spends each client's own budget, not one shared by everyone behind the proxy", async () => {
    const spray = [];
    for (let n = 0; n < BUDGET + 2; n++) {
      spray.push(await issue(`spray-${n}@proxy.test`, 'Winter2026!', from('203.0.113.7')));
    }
    expect(spray).toEqual([401, 401, 401, 429, 429]);
    // Another client through the same proxy still gets a real check, and signs in.
    expect(await issue('nobody@proxy.test', 'Winter2026!', from('203.0.113.8'))).toBe(401);
    expect(await issue(ADMIN.email, ADMIN.password, from('203.0.113.8'))).toBe(201);
  });

  it('keys on the entry the proxy appended, whatever the client wrote left of it', async () => {
    for (let n = 0; n < BUDGET; n++) {
      expect(await issue(`forge-${n}@proxy.test`, 'Winter2026!', from('203.0.113.9'))).toBe(401);
    }
    // The spent client names a fresh address itself; the proxy appends the real one.
    expect(await issue(ADMIN.email, ADMIN.password, from('198.51.100.1, 203.0.113.9'))).toBe(429);
  });
});

describe('the sign-in throttle and IPv6 clients', () => {
  it('counts a /64 as one client: a fresh address per guess spends the same budget', async () => {
    const spray = [];
    for (let n = 0; n < BUDGET + 2; n++) {
      // One host's /64, a new interface id for every guess.
      spray.push(await issue(`v6-${n}@proxy.test`, 'Winter2026!', from(`2001:db8:7:1::${n + 1}`)));
    }
    expect(spray).toEqual([401, 401, 401, 429, 429]);
    // Written in full, in capitals, it is still that /64; the next /64 is another client.
    expect(await issue('v6-full@proxy.test', 'Winter2026!', from('2001:DB8:7:1:ffff:0:0:9'))).toBe(
      429,
    );
    expect(await issue(ADMIN.email, ADMIN.password, from('2001:db8:7:2::1'))).toBe(201);
  });
});

describe("a brand's portal behind a proxy", () => {
  it('is found by the Host the client asked for, so only its subtree signs in there', async () => {
    const onPortal = { 'x-forwarded-host': PORTAL, ...from('203.0.113.20') };
    expect(await issue('ops@nimbus.proxy.test', PASSWORD, onPortal)).toBe(201);
    // The carrier's admin is refused on the reseller's portal like an unknown email…
    expect(await issue(ADMIN.email, ADMIN.password, onPortal)).toBe(401);
    // …and signs in on the panel's own host.
    expect(await issue(ADMIN.email, ADMIN.password, from('203.0.113.20'))).toBe(201);
  });
});

describe('a session signed in on a portal behind a proxy', () => {
  const sockets: Socket[] = [];
  afterAll(() => {
    for (const socket of sockets) socket.close();
  });

  /** A handshake with the headers the proxy forwards: `hello`'s user, or the refusal's code. */
  function handshake(headers: Record<string, string>): Promise<string> {
    const socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: headers,
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('hello', (hello: { user: { email: string } }) => resolve(hello.user.email));
      socket.once('connect_error', (error) =>
        resolve((error as { data?: { code?: string } }).data?.code ?? error.message),
      );
    });
  }

  it("opens the socket on the portal's forwarded Host, and nowhere else", async () => {
    const viaProxy = { 'x-forwarded-host': PORTAL, ...from('203.0.113.30') };
    const { cookie } = await signInOverHttp(
      suite.server.url,
      'ops@nimbus.proxy.test',
      PASSWORD,
      {},
      undefined,
      viaProxy,
    );
    expect(cookie).not.toBeNull();
    const origin = `http://${PORTAL}:${suite.server.port}`;
    expect(await handshake({ cookie: cookie!, origin, ...viaProxy })).toBe('ops@nimbus.proxy.test');
    // The same cookie on the panel's own host is no session.
    expect(await handshake({ cookie: cookie!, ...from('203.0.113.30') })).toBe('unauthenticated');
  });
});
