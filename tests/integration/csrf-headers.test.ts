import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Account } from '@/lib/server/entities';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { startPanelServer, type TPanelServer } from '../fixtures/panel-server';
import { signInOverHttp } from '../fixtures/http-login';

/**
 * Issue 13 items 3 and 6 on the real server: a write carried by the session cookie must
 * come from the panel's own origin with a body of the endpoint's type (bearer callers
 * are not affected), and every response carries the security headers, with a
 * per-response CSP nonce that Next stamps on the page's scripts.
 */
const ADMIN = { email: 'admin@csrf.test', password: 'csrf-admin-password' };
// Spawned: the security headers on Next's pages, and the CSP nonce Next puts on scripts.
const suite = usePanelSuite(
  { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
  { spawned: true },
);

let cookie: string;
let panelOrigin: string;

beforeAll(async () => {
  const login = await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password);
  cookie = login.cookie!;
  expect(cookie).toBeTruthy();
  panelOrigin = new URL(suite.server.url).origin;
});

async function customerNames(): Promise<string[]> {
  const rows = await suite.orm.em.fork().find(Account, { kind: 'customer' });
  return rows.map((row) => row.name).sort();
}

/** A POST to create a customer, as an attacker's page or the panel's own would send it. */
async function createCustomer(name: string, headers: Record<string, string>, body?: string) {
  const response = await fetch(`${suite.server.url}/api/v1/customers`, {
    method: 'POST',
    headers,
    body: body ?? JSON.stringify({ name }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

describe('cookie-authenticated writes (CSRF)', () => {
  it('refuses a cross-origin text/plain POST and writes nothing', async () => {
    const before = await customerNames();
    // What a `fetch(…, { mode: 'no-cors', credentials: 'include' })` from a sibling
    // subdomain sends: a simple request, so no preflight ever asks the panel.
    for (const origin of ['http://reseller.127.0.0.1.nip.io', 'https://evil.example']) {
      const answer = await createCustomer(
        'Forged',
        { cookie, origin, 'content-type': 'text/plain;charset=UTF-8' },
        JSON.stringify({ name: 'Forged' }),
      );
      expect(answer.status).toBe(403);
      expect(answer.body.error).toMatchObject({
        code: 'cross_origin',
        fields: { origin: `must be ${panelOrigin}` },
      });
      expect(answer.body.error.message).toContain(origin);
    }
    expect(await customerNames()).toEqual(before);
  });

  it('refuses a cookie write that names no Origin and no Referer', async () => {
    const before = await customerNames();
    const answer = await createCustomer('No origin', {
      cookie,
      'content-type': 'application/json',
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('cross_origin');
    const removal = await fetch(`${suite.server.url}/api/v1/tokens/00000000-0000-4000-8000-0`, {
      method: 'DELETE',
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(removal.status).toBe(403);
    expect((await removal.json()).error.code).toBe('cross_origin');
    expect(await customerNames()).toEqual(before);
  });

  it('refuses a same-origin form or text body on a JSON endpoint with 415', async () => {
    const before = await customerNames();
    const form = await createCustomer(
      'Form',
      { cookie, origin: panelOrigin, 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ name: 'Form' }).toString(),
    );
    expect(form.status).toBe(415);
    expect(form.body.error).toMatchObject({
      code: 'unsupported_media_type',
      fields: { 'content-type': 'must be application/json' },
    });
    // A JSON-looking body sent as text is refused as well: the type is what counts.
    const text = await createCustomer(
      'Text',
      { cookie, origin: panelOrigin, 'content-type': 'text/plain' },
      JSON.stringify({ name: 'Text' }),
    );
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('unsupported_media_type');
    expect(await customerNames()).toEqual(before);
  });

  it("accepts the panel's own JSON write, by Origin or by Referer", async () => {
    const byOrigin = await createCustomer('By origin', {
      cookie,
      origin: panelOrigin,
      'content-type': 'application/json',
    });
    expect(byOrigin.status).toBe(201);
    expect(byOrigin.body).toMatchObject({ name: 'By origin', status: 'active' });
    const byReferer = await createCustomer('By referer', {
      cookie,
      referer: `${panelOrigin}/customers`,
      'content-type': 'application/json; charset=utf-8',
    });
    expect(byReferer.status).toBe(201);
    expect(await customerNames()).toEqual(expect.arrayContaining(['By origin', 'By referer']));
  });

  it('leaves bearer-token callers alone: any Origin, any content type', async () => {
    const { token } = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body;
    const answer = await createCustomer(
      'By script',
      {
        authorization: `Bearer ${token}`,
        origin: 'https://elsewhere.example',
        'content-type': 'text/plain',
      },
      JSON.stringify({ name: 'By script' }),
    );
    expect(answer.status).toBe(201);
    expect(answer.body.name).toBe('By script');
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
    const api = await fetch(`${suite.server.url}/api/v1/me`, { headers: { cookie } });
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
