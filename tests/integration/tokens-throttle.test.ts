import { beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { ApiToken, User } from '@/lib/server/entities';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { signInOverHttp } from '../fixtures/http-login';
import { firstHello } from '../fixtures/cookie-listener';

const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'token-user-password';

let admin: TApiClient;
let groupId: string;
let otherGroupId: string;

const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  LOGIN_FREE_FAILURES: '2',
  LOGIN_LOCK_FAILURES: '4',
  LOGIN_BASE_DELAY_MS: '60000',
  LOGIN_LOCK_SECONDS: '2',
});

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  groupId = (await admin.post('/groups', { name: 'Ops', grants: ['customers:read', 'users:read'] }))
    .body.id;
  otherGroupId = (await admin.post('/groups', { name: 'Ops 2', grants: ['customers:read'] })).body
    .id;
});

async function newUser(email: string) {
  const me = (await admin.get('/me')).body;
  const response = await admin.post('/users', {
    email,
    password: PASSWORD,
    accountId: me.account.id,
    groupId,
  });
  expect(response.status).toBe(201);
  return response.body as { id: string; version: number };
}

const issue = (email: string, password = PASSWORD) =>
  requestToken(suite.server.url, email, password);

const bearer = (token: string, path: string, init: RequestInit = {}) =>
  fetch(`${suite.server.url}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...init.headers },
  });

describe('API tokens', () => {
  it('acts with exactly the user’s rights, is listed without its secret, and dies when revoked', async () => {
    const user = await newUser('script@carrier.test');
    const issued = await issue('script@carrier.test');
    expect(issued.status).toBe(201);
    expect(issued.body).toEqual({
      id: expect.any(String),
      name: 'script',
      token: expect.stringMatching(/^rpt_[\w-]{43}$/),
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      lastUsedAt: null,
    });
    const me = await (await bearer(issued.body.token, '/me')).json();
    expect(me.user.id).toBe(user.id);
    expect(me.grants).toEqual(['customers:read', 'users:read']);
    expect((await bearer(issued.body.token, '/resellers')).status).toBe(403);

    const list = await (await bearer(issued.body.token, '/tokens')).json();
    expect(list.items).toEqual([
      expect.objectContaining({ id: issued.body.id, lastUsedAt: expect.any(String) }),
    ]);
    expect(JSON.stringify(list)).not.toContain(issued.body.token);
    const stored = await suite.orm.em.fork().findOneOrFail(ApiToken, { id: issued.body.id });
    expect(stored.tokenHash).not.toContain(issued.body.token.slice(4));

    // Paged like every list: two more tokens, read one at a time, oldest first.
    const more = [
      (await issue('script@carrier.test')).body,
      (await issue('script@carrier.test')).body,
    ];
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = (await (
        await bearer(issued.body.token, `/tokens?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as { items: { id: string }[]; nextCursor: string | null };
      expect(page.items).toHaveLength(1);
      seen.push(page.items[0]!.id);
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([issued.body.id, ...more.map((token) => token.id)]);
    expect((await bearer(issued.body.token, '/tokens?limit=0')).status).toBe(400);
    for (const token of more) {
      expect((await bearer(token.token, `/tokens/${token.id}`, { method: 'DELETE' })).status).toBe(
        204,
      );
    }

    // Someone else cannot see or revoke it.
    expect((await admin.get('/tokens')).body.items).toEqual([]);
    expect((await admin.del(`/tokens/${issued.body.id}`)).status).toBe(404);
    expect((await bearer(issued.body.token, '/me')).status).toBe(200);

    expect(
      (await bearer(issued.body.token, `/tokens/${issued.body.id}`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect((await bearer(issued.body.token, '/me')).status).toBe(401);
  });

  it("carries its user's group as it is now, and dies when its user is disabled or deleted", async () => {
    const user = await newUser('moving@carrier.test');
    const second = (await issue('moving@carrier.test')).body.token;
    expect((await bearer(second, '/users')).status).toBe(200);
    const moved = await admin.patch(`/users/${user.id}`, {
      version: user.version,
      groupId: otherGroupId,
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    // DESIGN §3: tokens carry exactly the user's permissions — the new group's, at once.
    const me = await bearer(second, '/me');
    expect(me.status).toBe(200);
    expect(((await me.json()) as { grants: string[] }).grants).toEqual(['customers:read']);
    expect((await bearer(second, '/users')).status).toBe(403);

    const current = (await admin.get(`/users/${user.id}`)).body;
    await admin.patch(`/users/${user.id}`, { version: current.version, status: 'disabled' });
    expect((await bearer(second, '/me')).status).toBe(401);
    // Enabled again, the token stays dead (its session version is past), and its owner's
    // list no longer shows it as if it worked.
    const disabled = (await admin.get(`/users/${user.id}`)).body;
    await admin.patch(`/users/${user.id}`, { version: disabled.version, status: 'active' });
    expect((await bearer(second, '/me')).status).toBe(401);
    const fresh = (await issue('moving@carrier.test')).body;
    const listed = (await (await bearer(fresh.token, '/tokens')).json()) as {
      items: { id: string }[];
    };
    expect(listed.items.map((item) => item.id)).toEqual([fresh.id]);

    const other = await newUser('deleted@carrier.test');
    const third = (await issue('deleted@carrier.test')).body.token;
    expect((await admin.del(`/users/${other.id}`)).status).toBe(204);
    expect((await bearer(third, '/me')).status).toBe(401);
    expect(await suite.orm.em.fork().count(ApiToken, { user: other.id })).toBe(0);
  });

  it('opens a socket with `auth: { token }`, and a bad token is refused', async () => {
    await newUser('socket@carrier.test');
    const token = (await issue('socket@carrier.test')).body.token;
    const hello = await firstHello(suite.server.url, { token });
    expect(hello.user.email).toBe('socket@carrier.test');
    const refused = await new Promise<{ data?: { code: string } }>((resolve) => {
      const socket = io(suite.server.url, {
        transports: ['websocket'],
        reconnection: false,
        auth: { token: 'rpt_forged' },
      });
      socket.once('connect_error', (error) => (socket.close(), resolve(error as never)));
    });
    expect(refused.data?.code).toBe('unauthenticated');
  });

  it('answers unknown emails and wrong passwords alike', async () => {
    const unknown = await issue('nobody@carrier.test', 'whatever-password');
    const wrong = await issue('script@carrier.test', 'whatever-password');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.body).toEqual({
      error: { code: 'invalid_credentials', message: 'Wrong email or password.' },
    });
  });
});

describe('login throttling per (email, IP)', () => {
  it('delays after the free failures, locks, and lets the right password in once the lock ends', async () => {
    await newUser('victim@carrier.test');
    expect((await issue('victim@carrier.test', 'bad-1')).status).toBe(401);
    expect((await issue('victim@carrier.test', 'bad-2')).status).toBe(401);
    // Two failures: the next attempt waits, even with the right password.
    const throttled = await issue('victim@carrier.test');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(throttled.body.error.code).toBe('throttled');
    // The browser sign-in is throttled by the same record.
    expect(
      (await signInOverHttp(suite.server.url, 'victim@carrier.test', PASSWORD)).body,
    ).toContain('throttled');
    // Another email from the same address is not affected.
    expect((await issue('script@carrier.test', 'bad-x')).status).toBe(401);
    expect(await suite.orm.em.fork().count(User, { email: 'victim@carrier.test' })).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const allowed = await issue('victim@carrier.test');
    expect(allowed.status).toBe(201);
    // A success clears the record: a single failure later is not throttled.
    expect((await issue('victim@carrier.test', 'bad-3')).status).toBe(401);
    expect((await issue('victim@carrier.test')).status).toBe(201);
  });
});
