import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { encode } from 'next-auth/jwt';
import { Account, User, type TAccount } from '@/lib/server/entities';
import { ZHello, type THello } from '@/lib/shared/live/events';
import { usePanelSuite } from '../fixtures/panel-suite';
import { signInOverHttp } from '../fixtures/http-login';
import { addAccount, addGroup, addUser } from '../fixtures/accounts';
import { arrange } from '../fixtures/arrange';

const ADMIN = { email: 'admin@carrier.test', password: 'admin-password-123' };

let carrier: TAccount;
const sockets: Socket[] = [];

/** Connects like a browser tab would and resolves with `hello` or the refusal. */
function connect(
  cookie: string | undefined,
): Promise<{ hello: THello } | { error: { message: string; data?: unknown } }> {
  const socket = io(suite.server.url, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: cookie ? { cookie } : {},
  });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('hello', (hello) => resolve({ hello }));
    socket.once('connect_error', (error) =>
      resolve({ error: { message: error.message, data: (error as { data?: unknown }).data } }),
    );
  });
}

// In process: the pages Next serves to the signed-in and the anonymous are checked on the
// production server (production-server.test.ts).
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

beforeAll(async () => {
  carrier = await suite.orm.em.fork().findOneOrFail(Account, { kind: 'carrier' });
});

afterAll(() => {
  for (const socket of sockets) socket.close();
});

describe('health', () => {
  it('reports the database as up', async () => {
    const response = await fetch(`${suite.server.url}/api/health`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ status: 'ok', database: { status: 'up', kind: 'postgresql' } });
    expect(typeof body.database.latencyMs).toBe('number');
  });
});

describe('OpenAPI', () => {
  it('serves the document without a session', async () => {
    const response = await fetch(`${suite.server.url}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const doc = await response.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/resellers/{id}');
  });
});

describe('sign in over HTTP, then an authenticated socket', () => {
  it('receives hello with the signed-in identity', async () => {
    const login = await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password);
    expect(login.cookie).toContain('next-auth.session-token=');

    const result = await connect(login.cookie!);
    expect('hello' in result).toBe(true);
    if (!('hello' in result)) return;
    const hello = ZHello.parse(result.hello);
    expect(hello.user.email).toBe(ADMIN.email);
    expect(hello.account).toEqual({
      id: carrier.id,
      name: 'Carrier',
      kind: 'carrier',
      status: 'active',
    });
    expect(hello.group.name).toBe('Carrier administrators');
    expect(hello.grants).toContain('impersonation:start');
    expect(hello.protocol).toBe(2);
    expect(hello.impersonation).toBeNull();
  });

  it('refuses a wrong password without setting a session', async () => {
    const login = await signInOverHttp(suite.server.url, ADMIN.email, 'not-the-password');
    expect(login.cookie).toBeNull();
    expect(login.status).toBe(401);
    expect(login.body).toContain('CredentialsSignin');
  });

  it('answers an unknown email exactly like a wrong password', async () => {
    const unknown = await signInOverHttp(suite.server.url, 'nobody@carrier.test', 'whatever-123');
    const wrong = await signInOverHttp(suite.server.url, ADMIN.email, 'whatever-123');
    expect(unknown.cookie).toBeNull();
    expect({ status: unknown.status, body: unknown.body }).toEqual({
      status: wrong.status,
      body: wrong.body,
    });
  });
});

describe('the handshake refuses everyone else', () => {
  it('refuses a bad cookie with a clear error', async () => {
    const result = await connect('next-auth.session-token=forged.not-a-jwt');
    expect(result).toEqual({
      error: {
        message: 'The session is not valid: expired, signed out or revoked.',
        data: {
          code: 'unauthenticated',
          message: 'The session is not valid: expired, signed out or revoked.',
        },
      },
    });
  });

  it('refuses a handshake without a cookie', async () => {
    const result = await connect(undefined);
    expect(result).toMatchObject({ error: { data: { code: 'unauthenticated' } } });
  });

  it('refuses a token signed with another secret', async () => {
    const admin = await suite.orm.em.fork().findOneOrFail(User, { email: ADMIN.email });
    const token = await encode({ token: { sub: admin.id, sv: 1 }, secret: 'x'.repeat(40) });
    const result = await connect(`next-auth.session-token=${token}`);
    expect(result).toMatchObject({ error: { data: { code: 'unauthenticated' } } });
  });

  it('refuses a cookie whose session version was bumped (revoked)', async () => {
    const em = suite.orm.em.fork();
    const group = await addGroup(em, carrier, 'Revocation test', ['cards:read']);
    const user = await addUser(em, {
      account: carrier,
      group,
      email: 'revoked@carrier.test',
      password: 'revoked-password-1',
    });
    const login = await signInOverHttp(suite.server.url, user.email, 'revoked-password-1');
    expect('hello' in (await connect(login.cookie!))).toBe(true);

    await arrange(em, () =>
      em.nativeUpdate(User, { id: user.id }, { sessionVersion: user.sessionVersion + 1 }),
    );
    expect(await connect(login.cookie!)).toMatchObject({
      error: { data: { code: 'unauthenticated' } },
    });
  });

  it('refuses a cross-site browser origin', async () => {
    const login = await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password);
    const socket = io(suite.server.url, {
      transports: ['polling'],
      reconnection: false,
      extraHeaders: { cookie: login.cookie!, origin: 'https://evil.example' },
    });
    sockets.push(socket);
    const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    expect(error.message).toMatch(/xhr poll error|forbidden|403/i);
  });
});

describe('deny by default at sign-in', () => {
  it('cannot even store a user without a group (NOT NULL foreign key)', async () => {
    const connection = suite.orm.em.fork().getConnection();
    await expect(
      connection.execute(
        `insert into app_user (id, account_id, group_id, email, name, password_hash, created_at, updated_at)
         values (gen_random_uuid(), ?, null, 'nogroup@carrier.test', 'x', 'x', now(), now())`,
        [carrier.id],
      ),
    ).rejects.toThrow(/null value in column "group_id"/);
    expect(await suite.orm.em.fork().count(User, { email: 'nogroup@carrier.test' })).toBe(0);
  });

  it('refuses a user whose group grants nothing', async () => {
    const em = suite.orm.em.fork();
    const empty = await addGroup(em, carrier, 'No rights', []);
    await addUser(em, {
      account: carrier,
      group: empty,
      email: 'empty@carrier.test',
      password: 'empty-password-1',
    });
    const login = await signInOverHttp(suite.server.url, 'empty@carrier.test', 'empty-password-1');
    expect(login.cookie).toBeNull();
  });

  it("refuses a user given a group it may not use (a sub-account's group)", async () => {
    const em = suite.orm.em.fork();
    const reseller = await addAccount(em, carrier, 'reseller', 'Reseller One');
    const resellerGroup = await addGroup(em, reseller, 'Reseller staff', ['customers:read']);
    await addUser(em, {
      account: carrier,
      group: resellerGroup,
      email: 'misgrouped@carrier.test',
      password: 'misgrouped-pass-1',
    });
    const login = await signInOverHttp(
      suite.server.url,
      'misgrouped@carrier.test',
      'misgrouped-pass-1',
    );
    expect(login.cookie).toBeNull();
  });

  it('refuses a disabled user and a user of a suspended reseller', async () => {
    const em = suite.orm.em.fork();
    const group = await addGroup(em, carrier, 'Resellers', ['customers:read']);
    await addUser(em, {
      account: carrier,
      group,
      email: 'off@carrier.test',
      password: 'off-password-1',
      status: 'disabled',
    });
    const reseller = await addAccount(em, carrier, 'reseller', 'Suspended Reseller');
    const sub = await addAccount(em, reseller, 'reseller', 'Its sub-reseller');
    await addUser(em, {
      account: sub,
      group,
      email: 'sub@reseller.test',
      password: 'sub-password-12',
    });

    expect(
      (await signInOverHttp(suite.server.url, 'off@carrier.test', 'off-password-1')).cookie,
    ).toBeNull();
    expect(
      (await signInOverHttp(suite.server.url, 'sub@reseller.test', 'sub-password-12')).cookie,
    ).not.toBeNull();
    await arrange(em, () => em.nativeUpdate(Account, { id: reseller.id }, { status: 'suspended' }));
    expect(
      (await signInOverHttp(suite.server.url, 'sub@reseller.test', 'sub-password-12')).cookie,
    ).toBeNull();
  });

  it('admits a reseller user with a usable group and shows only its own account', async () => {
    const em = suite.orm.em.fork();
    const reseller = await addAccount(em, carrier, 'reseller', 'Good Reseller');
    const group = await addGroup(em, carrier, 'Default-ish', ['customers:read', 'cards:read']);
    await addUser(em, {
      account: reseller,
      group,
      email: 'ops@good.test',
      password: 'good-password-1',
    });
    const login = await signInOverHttp(suite.server.url, 'ops@good.test', 'good-password-1');
    const result = await connect(login.cookie!);
    expect(result).toMatchObject({
      hello: {
        account: { id: reseller.id, name: 'Good Reseller', kind: 'reseller' },
        grants: ['customers:read', 'cards:read'],
      },
    });
  });
});
