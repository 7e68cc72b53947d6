import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { startPanelServer, type TPanelServer } from '../fixtures/panel-server';
import { signInOverHttp } from '../fixtures/http-login';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * What only the production server shows (spawned, `npm run build` first): Next's pages
 * and where they send people, Next's own answers (OPTIONS), the CSP nonce Next stamps on
 * its scripts, the headers on pages, and the JSON log the process prints. The API and
 * socket sides of the same features run in process, where no build can be stale:
 * login-and-socket, sessions, mfa, csrf-headers, input-errors and observability.
 *
 * The server runs without METRICS_TOKEN, so it also shows that such a process lets
 * nobody scrape.
 */
const ADMIN = { email: 'admin@production.test', password: 'production-admin-pass' };
const PASSWORD = 'production-user-password';
const suite = usePanelSuite(
  { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
  { spawned: true },
);

let admin: TApiClient;
let carrierId: string;

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  carrierId = (await admin.get('/me')).body.account.id;
});

/** A user of the carrier in a new group of its own (`requireMfa` as given). */
async function newUser(email: string, group: Record<string, unknown>) {
  const made = await admin.post('/groups', group);
  expect(made.status).toBe(201);
  const user = await admin.post('/users', {
    email,
    password: PASSWORD,
    accountId: carrierId,
    groupId: made.body.id,
  });
  expect(user.status).toBe(201);
  return user.body as { id: string; version: number };
}

describe('pages send each person where the door says', () => {
  it('serves the signed-in shell with the user and account, and the login page without one', async () => {
    const login = await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password);
    const shell = await fetch(`${suite.server.url}/`, { headers: { cookie: login.cookie! } });
    expect(shell.status).toBe(200);
    const html = await shell.text();
    expect(html).toContain(ADMIN.email);
    expect(html).toContain('Sign out');

    const anonymous = await fetch(`${suite.server.url}/`, { redirect: 'manual' });
    expect(anonymous.status).toBe(307);
    expect(anonymous.headers.get('location')).toMatch(/\/login$/);
  });

  it('holds a user whose password was reset at /password until the change, then lets it in', async () => {
    const email = 'forced@production.test';
    const user = await newUser(email, { template: 'default-reseller', name: 'Forced' });
    const reset = await admin.patch(`/users/${user.id}`, {
      version: user.version,
      password: 'temporary-password-1',
    });
    expect(reset.status).toBe(200);

    const login = await signInOverHttp(suite.server.url, email, 'temporary-password-1');
    const cookie = login.cookie!;
    expect(cookie).toBeTruthy();
    for (const page of ['/', '/users', '/cards']) {
      const response = await fetch(`${suite.server.url}${page}`, {
        headers: { cookie },
        redirect: 'manual',
      });
      expect([page, response.status, response.headers.get('location')]).toEqual([
        page,
        307,
        '/password',
      ]);
    }
    const screen = await fetch(`${suite.server.url}/password`, { headers: { cookie } });
    expect(screen.status).toBe(200);
    const html = await screen.text();
    expect(html).toContain('choose a new one to continue');
    expect(html).toContain('Change password');

    const change = await fetch(`${suite.server.url}/api/v1/me/password`, {
      method: 'POST',
      headers: {
        cookie,
        origin: new URL(suite.server.url).origin,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        currentPassword: 'temporary-password-1',
        newPassword: 'my-own-new-password',
      }),
    });
    expect(change.status).toBe(204);
    const panel = await fetch(`${suite.server.url}/users`, {
      headers: { cookie },
      redirect: 'manual',
    });
    expect(panel.status).toBe(200);
  });

  it('sends a member of a group that requires MFA, not enrolled, to /account/security', async () => {
    const email = 'must-enrol@production.test';
    await newUser(email, {
      name: 'Must enrol',
      grants: ['customers:read', 'users:read'],
      requireMfa: true,
    });
    const { cookie } = await apiClient(suite.server.url, email, PASSWORD);
    const page = await fetch(`${suite.server.url}/customers`, {
      headers: { cookie },
      redirect: 'manual',
    });
    expect([page.status, page.headers.get('location')]).toEqual([307, '/account/security']);
    const screen = await fetch(`${suite.server.url}/account/security`, {
      headers: { cookie },
      redirect: 'manual',
    });
    expect(screen.status).toBe(200);
  });
});

/** The nonce a response's CSP allows scripts with. */
function scriptNonce(policy: string | null): string {
  const match = /script-src [^;]*'nonce-([^']+)'/.exec(policy ?? '');
  expect(match, `no script nonce in ${policy}`).not.toBeNull();
  return match![1]!;
}

describe('security headers', () => {
  it('sends the CSP with a fresh nonce per page, and Next puts that nonce on every script', async () => {
    const first = await fetch(`${suite.server.url}/login`);
    expect(first.status).toBe(200);
    const policy = first.headers.get('content-security-policy');
    const nonce = scriptNonce(policy);
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("'strict-dynamic'");
    expect(policy).not.toContain("'unsafe-eval'");
    const html = await first.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);

    const second = await fetch(`${suite.server.url}/login`);
    expect(scriptNonce(second.headers.get('content-security-policy'))).not.toBe(nonce);
  });

  it('chooses the nonce itself: a nonce the client sends in a request header is ignored', async () => {
    const response = await fetch(`${suite.server.url}/login`, {
      headers: { 'content-security-policy': "script-src 'nonce-chosenByClient'" },
    });
    const html = await response.text();
    expect(html).not.toContain('chosenByClient');
    expect(html).toContain(
      `nonce="${scriptNonce(response.headers.get('content-security-policy'))}"`,
    );
  });

  it('sends nosniff, same-origin referrers and DENY framing on pages and API answers; no HSTS over http', async () => {
    const page = await fetch(`${suite.server.url}/login`);
    const api = await fetch(`${suite.server.url}/api/v1/me`, { headers: { cookie: admin.cookie } });
    expect(api.status).toBe(200);
    const unauthenticated = await fetch(`${suite.server.url}/api/v1/me`);
    expect(unauthenticated.status).toBe(401);
    for (const response of [page, api, unauthenticated]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('same-origin');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
  });

  describe('behind https', () => {
    let secure: TPanelServer;
    beforeAll(async () => {
      secure = await startPanelServer({
        DATABASE_URL: suite.db.url,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        PUBLIC_URL: 'https://panel.example',
      });
    });
    afterAll(async () => {
      await secure?.stop();
    });

    it('adds HSTS when PUBLIC_URL is https, and the socket origin is wss', async () => {
      for (const path of ['/login', '/api/health']) {
        const response = await fetch(`${secure.url}${path}`);
        expect(response.headers.get('strict-transport-security')).toBe(
          'max-age=31536000; includeSubDomains',
        );
        expect(response.headers.get('content-security-policy')).toContain(
          "connect-src 'self' wss://panel.example",
        );
      }
    });
  });
});

describe("Next's own answers", () => {
  it('Allow agrees with what each route answers to OPTIONS', async () => {
    const card = await admin.post('/cards', { name: 'Options', currency: 'EUR', kind: 'provider' });
    expect(card.status).toBe(201);
    for (const path of [
      '/me',
      '/cards',
      `/cards/${card.body.id}`,
      '/auth/token',
      '/impersonation',
    ]) {
      const options = await fetch(`${suite.server.url}/api/v1${path}`, { method: 'OPTIONS' });
      expect(options.status, path).toBe(204);
      // PROPFIND: a method no route serves (Next itself answers it 400).
      const other = await fetch(`${suite.server.url}/api/v1${path}`, { method: 'PROPFIND' });
      expect(other.status, path).toBe(405);
      expect(other.headers.get('allow'), path).toBe(options.headers.get('allow'));
    }
  });
});

/** The server's JSON log records (one per line; anything else is not a record). */
function records(output: string): Record<string, unknown>[] {
  return output.split('\n').flatMap((line) => {
    try {
      const parsed = JSON.parse(line);
      return parsed && typeof parsed === 'object' ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

describe('the process', () => {
  it('gives every request an id, echoed and logged as one JSON line', async () => {
    const mine = await fetch(`${suite.server.url}/api/v1/me`, {
      headers: { 'x-request-id': 'trace-4711' },
    });
    expect(mine.status).toBe(401);
    expect(mine.headers.get('x-request-id')).toBe('trace-4711');
    // Anything but a plain token is replaced, never echoed.
    const hostile = await fetch(`${suite.server.url}/api/v1/me`, {
      headers: { 'x-request-id': '<script>alert(1)</script>' },
    });
    const replaced = hostile.headers.get('x-request-id')!;
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    await expect
      .poll(() => records(suite.server.output()).find((r) => r.reqId === 'trace-4711'))
      .toMatchObject({
        level: 'info',
        msg: 'request',
        method: 'GET',
        path: '/api/v1/me',
        status: 401,
        service: 'reseller-panel',
      });
    expect(suite.server.output()).not.toContain('<script>');
    const line = records(suite.server.output()).find((r) => r.reqId === 'trace-4711')!;
    expect(typeof line.ms).toBe('number');
    expect(typeof line.time).toBe('string');
  });

  it('started without METRICS_TOKEN, lets nobody scrape, not even from this machine', async () => {
    const url = `${suite.server.url}/api/metrics`;
    expect((await fetch(url)).status).toBe(404);
    const guessed = await fetch(url, {
      headers: { authorization: 'Bearer scrape-secret-0123456789' },
    });
    expect(guessed.status).toBe(404);
  });
});
