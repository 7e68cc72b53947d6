import { describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { usePanelSuite } from '../fixtures/panel-suite';
import { signInOverHttp } from '../fixtures/http-login';

/**
 * Under an https public URL next-auth sets and clears only the `__Secure-` session
 * cookie. The panel reads that name alone: the unprefixed one could be planted by a
 * sibling subdomain (`Domain=`) or over plain http — read, it would sign a victim in as
 * whoever planted it (login CSRF), where next-auth's sign-out never reaches it.
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
  it('is the __Secure- one alone: the same value under the plain name opens nothing', async () => {
    const login = await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password);
    const value = /__Secure-next-auth\.session-token=([^;]+)/.exec(login.cookie ?? '')?.[1];
    expect(value, 'next-auth set the __Secure- cookie').toBeTruthy();
    const secure = `__Secure-next-auth.session-token=${value}`;
    const planted = `next-auth.session-token=${value}`;

    const me = (cookie: string) => fetch(`${suite.server.url}/api/v1/me`, { headers: { cookie } });
    const signedIn = await me(secure);
    expect(signedIn.status).toBe(200);
    expect((await signedIn.json()).user.email).toBe(ADMIN.email);
    expect(await socketAdmits(secure)).toBe(true);

    expect((await me(planted)).status).toBe(401);
    expect(await socketAdmits(planted)).toBe(false);
  });
});
