import { beforeAll, describe, expect, it } from 'vitest';
import { Account } from '@/lib/server/entities';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { signInOverHttp } from '../fixtures/http-login';

/**
 * Issue 13 item 3 on the real request pipeline: a write carried by the session cookie
 * must come from the panel's own origin with a body of the endpoint's type (bearer
 * callers are not affected). The security headers (item 6) on Next's pages, and the CSP
 * nonce Next stamps on the page's scripts, are checked on the production server
 * (production-server.test.ts).
 */
const ADMIN = { email: 'admin@csrf.test', password: 'csrf-admin-password' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

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
