import { describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { usePanelSuite } from '../fixtures/panel-suite';
import { signInOverHttp } from '../fixtures/http-login';

/**
 * Under an https public URL next-auth sets and clears only the `__Host-` session cookie.
 * The panel reads that name alone: an unprefixed one could be planted over plain http,
 * and a `__Secure-` one by a sibling subdomain (`Domain=`, which that prefix allows) —
 * read, it would sign a victim in as whoever planted it (login CSRF), where next-auth's
 * sign-out never reaches it.
 */
const ADMIN = { email: 'admin@secure-cookie.test', password: 'secure-cookie-admin' };
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  PUBLIC_URL: 'https://localhost:4443',
});

/** Whether a socket opened with this Cookie header is let in (its `hello`). */
function socketAdmits(cookie: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie },
    });
    socket.once('hello', () => (socket.close(), resolve(true)));
    socket.once('connect_error', () => (socket.close(), resolve(false)));
  });
}

describe('the session cookie under https', () => {
  it('is the __Host- one alone: the same value under another name opens nothing', async () => {
    const login = await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password);
    const value = /__Host-next-auth\.session-token=([^;]+)/.exec(login.cookie ?? '')?.[1];
    expect(value, 'next-auth set the __Host- cookie').toBeTruthy();
    const host = `__Host-next-auth.session-token=${value}`;

    const me = (cookie: string) => fetch(`${suite.server.url}/api/v1/me`, { headers: { cookie } });
    const signedIn = await me(host);
    expect(signedIn.status).toBe(200);
    expect((await signedIn.json()).user.email).toBe(ADMIN.email);
    expect(await socketAdmits(host)).toBe(true);

    // Names a sibling subdomain (`__Secure-` with `Domain=`) or plain http could plant.
    for (const planted of [
      `next-auth.session-token=${value}`,
      `__Secure-next-auth.session-token=${value}`,
    ]) {
      expect((await me(planted)).status).toBe(401);
      expect(await socketAdmits(planted)).toBe(false);
    }
  });

  it('is set as the host’s own: Secure, Path=/, no Domain', async () => {
    const csrf = await fetch(`${suite.server.url}/api/auth/csrf`);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const jar = csrf.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const response = await fetch(`${suite.server.url}/api/auth/callback/credentials`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar },
      body: new URLSearchParams({ csrfToken, ...ADMIN, json: 'true' }).toString(),
    });
    const line = response.headers
      .getSetCookie()
      .find((one) => one.startsWith('__Host-next-auth.session-token='));
    expect(line, 'the session cookie was set').toBeTruthy();
    expect(line).toMatch(/;\s*Secure/i);
    expect(line).toMatch(/;\s*Path=\/(;|$)/i);
    expect(line).not.toMatch(/Domain=/i);
  });
});
