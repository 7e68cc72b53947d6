import { beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { Account } from '@/lib/server/entities';
import { DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, bearerCall, type TApiClient } from '../fixtures/api-client';
import { firstHello } from '../fixtures/cookie-listener';

const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'impersonation-pass';

let admin: TApiClient;
let support: TApiClient;
let reseller: TApiClient;
let resellerUserId: string;
let colleagueId: string;

const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
});

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const carrierId = (await admin.get('/me')).body.account.id;
  const supportGroup = await admin.post('/groups', {
    name: 'Support',
    grants: ['impersonation:start', 'resellers:read', 'customers:read', 'users:read', 'audit:read'],
  });
  const resellerGroup = await admin.post('/groups', { template: 'default-reseller' });
  colleagueId = (
    await admin.post('/users', {
      email: 'support@carrier.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: supportGroup.body.id,
    })
  ).body.id;
  const acme = await admin.post('/resellers', { name: 'Acme', email: 'ops@acme.test' });
  await admin.post('/customers', { name: 'Carrier Direct' });
  resellerUserId = (
    await admin.post('/users', {
      email: 'ops@acme.test',
      password: PASSWORD,
      accountId: acme.body.id,
      groupId: resellerGroup.body.id,
    })
  ).body.id;
  support = await apiClient(suite.server.url, 'support@carrier.test', PASSWORD);
  reseller = await apiClient(suite.server.url, 'ops@acme.test', PASSWORD);
  await reseller.post('/customers', { name: 'Hotel Alpine' });
});

/** The newest position in the change log. */
const head = async () =>
  Number(
    (
      await suite.orm.em
        .fork()
        .execute<{ seq: string }[]>('select max(carrier_seq) as seq from change_log')
    )[0]!.seq,
  );

describe('impersonation ("view as")', () => {
  it('needs the grant, a reason, and a user of a strictly lower account', async () => {
    const noReason = await support.post('/impersonation', { userId: resellerUserId });
    expect(noReason).toMatchObject({
      status: 400,
      body: { error: { fields: { reason: expect.any(String) } } },
    });
    // Its own account (a peer) and itself: not found, like anything outside.
    expect(
      (await support.post('/impersonation', { userId: colleagueId, reason: 'peer' })).status,
    ).toBe(404);
    const adminId = (await admin.get('/me')).body.user.id;
    expect((await support.post('/impersonation', { userId: adminId, reason: 'peer' })).status).toBe(
      404,
    );
    // A reseller holding every grant it has still lacks impersonation:start.
    expect(
      (await reseller.post('/impersonation', { userId: resellerUserId, reason: 'self' })).status,
    ).toBe(403);
  });

  it('answers exactly as the target would, and refuses every write', async () => {
    const started = await support.post('/impersonation', {
      userId: resellerUserId,
      reason: 'ticket #42',
    });
    expect(started.status).toBe(201);

    const me = (await support.get('/me')).body;
    expect(me.user.email).toBe('ops@acme.test');
    expect(me.grants).toEqual([...DEFAULT_RESELLER_GRANTS]);
    expect(me.impersonation).toMatchObject({
      reason: 'ticket #42',
      impersonator: { email: 'support@carrier.test' },
    });
    for (const path of ['/customers', '/resellers', '/users']) {
      const mine = await reseller.get(path);
      const viewed = await support.get(path);
      expect([path, viewed]).toEqual([path, mine]);
    }

    const count = await suite.orm.em.fork().count(Account, {});
    const write = await support.post('/customers', { name: 'Written while viewing' });
    expect(write).toMatchObject({
      status: 403,
      body: { error: { code: 'impersonation_read_only' } },
    });
    const customer = (await support.get('/customers')).body.items[0];
    const patch = await support.patch(`/customers/${customer.id}`, {
      version: customer.version,
      name: 'x',
    });
    expect(patch.body.error.code).toBe('impersonation_read_only');
    expect(await suite.orm.em.fork().count(Account, {})).toBe(count);
  });

  it("gives the socket the target's identity too", async () => {
    const hello = await firstHello(suite.server.url, { cookie: support.cookie });
    expect(hello.user.email).toBe('ops@acme.test');
    expect(hello.impersonation?.reason).toBe('ticket #42');
  });

  it("is the session's that started it: the person's other sessions and tokens act as the person", async () => {
    // Bound to the person, a support user's script token answered as whoever a tab viewed.
    const otherSession = await apiClient(suite.server.url, 'support@carrier.test', PASSWORD);
    const token = (await requestToken(suite.server.url, 'support@carrier.test', PASSWORD)).body
      .token as string;
    const byToken = (path: string) => bearerCall(suite.server.url, token, 'GET', path);
    for (const me of [(await otherSession.get('/me')).body, (await byToken('/me')).body]) {
      expect(me).toMatchObject({ user: { email: 'support@carrier.test' }, impersonation: null });
    }
    // The support user's own scope: the carrier's direct customer, which Acme never sees.
    for (const list of [await otherSession.get('/customers'), await byToken('/customers')]) {
      expect(list.body.items.map((c: { name: string }) => c.name)).toContain('Carrier Direct');
    }
    const hello = await firstHello(suite.server.url, { token });
    expect(hello).toMatchObject({ user: { email: 'support@carrier.test' }, impersonation: null });
    // …while the session that started the view still sees the reseller's panel.
    expect((await support.get('/me')).body.user.email).toBe('ops@acme.test');
    expect(
      (await support.get('/customers')).body.items.map((c: { name: string }) => c.name),
    ).toEqual(['Hotel Alpine']);
  });

  it('ends when it expires', async () => {
    await suite.orm.em
      .fork()
      .execute(`update impersonation set expires_at = now() - interval '1 second'`);
    expect((await support.get('/me')).body).toMatchObject({
      user: { email: 'support@carrier.test' },
      impersonation: null,
    });
  });

  it('stops on request, and start and stop are audited where the target can read them', async () => {
    await support.post('/impersonation', { userId: resellerUserId, reason: 'follow-up' });
    expect((await support.get('/me')).body.user.email).toBe('ops@acme.test');
    expect((await support.del('/impersonation')).status).toBe(204);
    expect((await support.get('/me')).body.user.email).toBe('support@carrier.test');
    expect((await support.del('/impersonation')).status).toBe(404);

    const seen = (await reseller.get('/audit?resource=impersonation')).body.items;
    expect(seen.map((item: { op: string }) => item.op)).toEqual(['deleted', 'created', 'created']);
    // The reseller is told the carrier looked, not which agent.
    expect(seen[0].actor).toEqual({ kind: 'account', name: 'Carrier' });
    const carrierView = (await admin.get('/audit?resource=impersonation')).body.items;
    expect(carrierView[0].actor).toMatchObject({ kind: 'user', email: 'support@carrier.test' });
    // The person viewed is told in its notices too, whatever its grants (a customer's
    // people seldom read the audit): by the account that looked, with the reason.
    const notices = (await reseller.get('/notifications')).body.items as {
      kind: string;
      title: string;
      body: string;
    }[];
    const told = notices.filter((notice) => notice.kind === 'user.viewed_as');
    expect(told.length).toBeGreaterThan(0);
    expect(told[0]!.title).toBe('Carrier is viewing the panel as you');
    expect(told[0]!.body).toContain('The reason given: follow-up');
    expect(JSON.stringify(told)).not.toContain('support@carrier.test');
  });

  it('a new view ends the open one as a stop does: its target sees it stop', async () => {
    const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
    const other = await admin.post('/resellers', { name: 'Other', email: 'ops@other.test' });
    const otherUser = await admin.post('/users', {
      email: 'ops@other.test',
      password: PASSWORD,
      accountId: other.body.id,
      groupId: group,
    });
    const before = (await reseller.get('/audit?resource=impersonation')).body.items.length;
    expect(
      (await support.post('/impersonation', { userId: resellerUserId, reason: 'first look' }))
        .status,
    ).toBe(201);
    expect(
      (await support.post('/impersonation', { userId: otherUser.body.id, reason: 'second look' }))
        .status,
    ).toBe(201);
    expect((await support.get('/me')).body.user.email).toBe('ops@other.test');
    const seen = (await reseller.get('/audit?resource=impersonation')).body.items as {
      op: string;
    }[];
    expect(seen.slice(0, seen.length - before).map((item) => item.op)).toEqual([
      'deleted',
      'created',
    ]);
    expect((await support.del('/impersonation')).status).toBe(204);
  });

  it("catch-up never replays across a change of the viewer's own access or an expiry", async () => {
    const replay = (since: number) => support.get(`/events?since=${since}`);
    await support.post('/impersonation', { userId: resellerUserId, reason: 'catch-up' });
    let since = await head();
    // Unrelated change in the target's view: replayed as usual.
    await reseller.post('/customers', { name: 'Catch-up Hotel' });
    expect((await replay(since)).body.items.map((e: { type: string }) => e.type)).toEqual([
      'customers.created',
    ]);
    // The support user's own group is renamed: nobody's access moved, replay goes on.
    const groups = (await admin.get('/groups?limit=500')).body.items;
    const supportGroup = groups.find((group: { name: string }) => group.name === 'Support');
    const renamed = await admin.patch(`/groups/${supportGroup.id}`, {
      version: supportGroup.version,
      name: 'Support desk',
    });
    expect(renamed.status).toBe(200);
    expect((await replay(since)).status).toBe(200);
    // Its grants change (it could lose impersonation:start and with it the view): the
    // events after it were chosen for another view — fetch afresh.
    expect(
      (
        await admin.patch(`/groups/${supportGroup.id}`, {
          version: renamed.body.version,
          grants: [...renamed.body.grants, 'groups:read'],
        })
      ).status,
    ).toBe(200);
    expect(await replay(since)).toMatchObject({
      status: 410,
      body: { error: { code: 'resync_required' } },
    });
    // A view-as that runs out switches the view with no log entry: also afresh.
    since = await head();
    await suite.orm.em
      .fork()
      .execute(`update impersonation set expires_at = clock_timestamp() where ended_at is null`);
    expect((await support.get('/me')).body.user.email).toBe('support@carrier.test');
    // A change its own view sees, after the point it resumes from.
    expect((await admin.post('/customers', { name: 'After the view' })).status).toBe(201);
    expect(await replay(since)).toMatchObject({
      status: 410,
      body: { error: { code: 'resync_required' } },
    });
  });

  it("catch-up never replays to another credential a cursor read under one's view", async () => {
    // A view belongs to one credential: a cursor read under token A's view, asked from by
    // token B of the same person (its own view), was chosen for another view.
    const tokenOf = async () =>
      (await requestToken(suite.server.url, 'support@carrier.test', PASSWORD)).body.token as string;
    const [viewing, own] = [await tokenOf(), await tokenOf()];
    const as = (token: string, method: string, path: string, body?: unknown) =>
      bearerCall(suite.server.url, token, method, path, body);
    const types = (page: { body: { items: { type: string }[] } }) =>
      page.body.items.map((event) => event.type);
    const started = await as(viewing, 'POST', '/impersonation', {
      userId: resellerUserId,
      reason: 'cursor',
    });
    expect(started.status).toBe(201);
    let since = await head();
    expect((await admin.post('/customers', { name: 'Seen by the carrier only' })).status).toBe(201);
    // The viewing token replays as the reseller's user: the carrier's customer is not in it.
    const asViewed = await as(viewing, 'GET', `/events?since=${since}`);
    expect(asViewed.status).toBe(200);
    expect(types(asViewed)).toEqual([]);
    // The other token may see that customer, but not from a cursor of the view: afresh.
    expect(await as(own, 'GET', `/events?since=${since}`)).toMatchObject({
      status: 410,
      body: { error: { code: 'resync_required' } },
    });
    // Once the view has ended, a cursor read after it replays as usual.
    expect((await as(viewing, 'DELETE', '/impersonation')).status).toBe(204);
    since = await head();
    expect((await admin.post('/customers', { name: 'After the view ended' })).status).toBe(201);
    expect(types(await as(own, 'GET', `/events?since=${since}`))).toEqual(['customers.created']);
  });

  it('catch-up never replays across a view paused by its target’s account or group', async () => {
    // A cursor read in the view: when the door pauses the view (the target's reseller
    // suspended, its group emptied), the person sees its own panel — what follows was
    // chosen for that, not for the state the cursor's client holds.
    for (const how of ['suspend', 'empty'] as const) {
      const acme2 = await admin.post('/resellers', {
        name: `Paused ${how}`,
        email: `${how}@p.test`,
      });
      const group = await admin.post('/groups', {
        template: 'default-reseller',
        name: `Paused ${how}`,
        accountId: acme2.body.id,
      });
      const target = await admin.post('/users', {
        email: `t-${how}@p.test`,
        password: PASSWORD,
        accountId: acme2.body.id,
        groupId: group.body.id,
      });
      expect(target.status).toBe(201);
      expect(
        (await support.post('/impersonation', { userId: target.body.id, reason: how })).status,
      ).toBe(201);
      const since = await head();
      if (how === 'suspend') {
        const paused = await admin.patch(`/resellers/${acme2.body.id}`, {
          version: acme2.body.version,
          status: 'suspended',
        });
        expect(paused.status).toBe(200);
      } else {
        const emptied = await admin.patch(`/groups/${group.body.id}`, {
          version: group.body.version,
          grants: [],
        });
        expect(emptied.status).toBe(200);
      }
      expect((await support.get('/me')).body.user.email).toBe('support@carrier.test');
      expect((await admin.post('/customers', { name: `After the pause (${how})` })).status).toBe(
        201,
      );
      expect([how, (await support.get(`/events?since=${since}`)).status]).toEqual([how, 410]);
      await support.del('/impersonation');
    }
  });

  it('a view paused while its target may not sign in comes back live when it may again', async () => {
    const acmeId = (await reseller.get('/me')).body.account.id as string;
    const paused = await admin.post('/groups', {
      template: 'default-reseller',
      name: 'Pausable',
      accountId: acmeId,
    });
    expect(paused.status).toBe(201);
    const target = await admin.post('/users', {
      email: 'pausable@acme.test',
      password: PASSWORD,
      accountId: acmeId,
      groupId: paused.body.id,
    });
    expect(target.status).toBe(201);
    expect(
      (await support.post('/impersonation', { userId: target.body.id, reason: 'pause' })).status,
    ).toBe(201);
    const socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: support.cookie },
    });
    const rescoped = () =>
      new Promise<{ user: { email: string } }>((resolve, reject) => {
        socket.once('session.rescoped', resolve);
        setTimeout(() => reject(new Error('the socket was not re-scoped within 5 s')), 5000);
      });
    const regrant = async (grants: readonly string[]) => {
      const group = (await admin.get(`/groups/${paused.body.id}`)).body;
      const saved = await admin.patch(`/groups/${group.id}`, { version: group.version, grants });
      expect(saved.status).toBe(200);
    };
    try {
      const hello = await new Promise<{ user: { email: string } }>((resolve, reject) => {
        socket.once('hello', resolve);
        socket.once('connect_error', reject);
      });
      expect(hello.user.email).toBe('pausable@acme.test');
      // Its group emptied: the target may not sign in, the support user sees its own panel.
      const out = rescoped();
      await regrant([]);
      expect((await out).user.email).toBe('support@carrier.test');
      expect((await support.get('/me')).body.user.email).toBe('support@carrier.test');
      // Given back: requests answer as the target again, and so does the socket at once.
      const back = rescoped();
      await regrant(DEFAULT_RESELLER_GRANTS);
      expect((await back).user.email).toBe('pausable@acme.test');
      expect((await support.get('/me')).body.user.email).toBe('pausable@acme.test');
    } finally {
      socket.close();
      await support.del('/impersonation');
    }
  });

  it("ends the view live when the support user's own group loses impersonation:start", async () => {
    expect(
      (await support.post('/impersonation', { userId: resellerUserId, reason: 'regrant' })).status,
    ).toBe(201);
    const socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: support.cookie },
    });
    try {
      const hello = await new Promise<{ user: { email: string } }>((resolve, reject) => {
        socket.once('hello', resolve);
        socket.once('connect_error', reject);
      });
      expect(hello.user.email).toBe('ops@acme.test');
      const rescoped = new Promise<{ user: { email: string }; grants: string[] }>(
        (resolve, reject) => {
          socket.once('session.rescoped', resolve);
          setTimeout(() => reject(new Error('the socket was not re-scoped within 5 s')), 5000);
        },
      );
      // The group of the person at the keyboard, not of the user it views as.
      const groups = (await admin.get('/groups?limit=500')).body.items;
      const own = groups.find((group: { name: string }) => group.name.startsWith('Support'));
      expect(
        (
          await admin.patch(`/groups/${own.id}`, {
            version: own.version,
            grants: ['resellers:read', 'users:read', 'audit:read'],
          })
        ).status,
      ).toBe(200);
      const me = await rescoped;
      expect(me.user.email).toBe('support@carrier.test');
      expect(me.grants).not.toContain('customers:read');
      // From now on the reseller's customers are none of this socket's business.
      const received: string[] = [];
      socket.on('change', (envelope: { type: string }) => received.push(envelope.type));
      expect((await reseller.post('/customers', { name: 'After the regrant' })).status).toBe(201);
      // A sentinel this socket may see (users:read), committed after the customer: events
      // arrive in commit order, so once it is here the customer would have been too.
      const sentinel = new Promise<void>((resolve) =>
        socket.on('change', (envelope: { type: string }) => {
          if (envelope.type === 'users.created') resolve();
        }),
      );
      const carrierId = (await admin.get('/me')).body.account.id;
      expect(
        (
          await admin.post('/users', {
            email: 'sentinel@carrier.test',
            password: 'sentinel-user-pass',
            accountId: carrierId,
            groupId: own.id,
          })
        ).status,
      ).toBe(201);
      await sentinel;
      expect(received.filter((type) => type.startsWith('customers.'))).toEqual([]);
      // The view ended with the grant, a stop recorded: given the grant back, the person
      // is itself again, not silently back in the view it was never seen to leave.
      const back = (await admin.get(`/groups/${own.id}`)).body;
      expect(
        (
          await admin.patch(`/groups/${own.id}`, {
            version: back.version,
            grants: [...back.grants, 'impersonation:start', 'customers:read'],
          })
        ).status,
      ).toBe(200);
      const after = (await support.get('/me')).body;
      expect(after.user.email).toBe('support@carrier.test');
      expect(after.impersonation).toBeNull();
    } finally {
      socket.close();
    }
  });
});

describe('the person viewed, and the person viewing', () => {
  const noticesOf = async (email: string) =>
    (
      (await (await apiClient(suite.server.url, email, PASSWORD)).get('/notifications')).body
        .items as { kind: string; title: string; body: string }[]
    ).filter((notice) => notice.kind === 'user.viewed_as');

  it('is told by the name its audit gives: below a reseller, never the carrier’s', async () => {
    const acmeId = (await reseller.get('/me')).body.account.id as string;
    const resellerGroup = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
    const customerGroup = (await admin.post('/groups', { template: 'default-customer' })).body.id;
    const sub = await admin.post('/resellers', {
      name: 'Acme Sub',
      email: 'ops@sub.acme.test',
      parentId: acmeId,
    });
    const hotel = await admin.post('/customers', { name: 'Hotel Two', parentId: acmeId });
    for (const [email, accountId, groupId] of [
      ['ops@sub.acme.test', sub.body.id, resellerGroup],
      ['desk@hotel.acme.test', hotel.body.id, customerGroup],
    ] as const) {
      const user = await admin.post('/users', { email, password: PASSWORD, accountId, groupId });
      expect(user.status).toBe(201);
      expect(
        (await support.post('/impersonation', { userId: user.body.id, reason: 'ticket 101' }))
          .status,
      ).toBe(201);
      expect((await support.del('/impersonation')).status).toBe(204);
      const told = await noticesOf(email);
      expect(told.map((notice) => notice.title)).toEqual([
        'Upstream provider is viewing the panel as you',
      ]);
      expect(JSON.stringify(told)).not.toContain('Carrier');
    }
  });

  it('cannot be viewed while it may not use the panel: 409, nothing written', async () => {
    const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
    const away = await admin.post('/resellers', { name: 'Away', email: 'ops@away.test' });
    const user = await admin.post('/users', {
      email: 'ops@away.test',
      password: PASSWORD,
      accountId: away.body.id,
      groupId: group,
    });
    const suspended = await admin.patch(`/resellers/${away.body.id}`, {
      version: away.body.version,
      status: 'suspended',
    });
    expect(suspended.status).toBe(200);
    const views = async () =>
      (
        await suite.orm.em
          .fork()
          .execute<{ n: number }[]>(
            'select count(*)::int as n from impersonation where target_user_id = ?',
            [user.body.id],
          )
      )[0]!.n;
    const refused = await support.post('/impersonation', { userId: user.body.id, reason: 'look' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'target_unavailable',
      fields: { userId: 'cannot use the panel now' },
    });
    expect(await views()).toBe(0);
    // Back, it may be viewed, and is told.
    await admin.patch(`/resellers/${away.body.id}`, {
      version: suspended.body.version,
      status: 'active',
    });
    expect(
      (await support.post('/impersonation', { userId: user.body.id, reason: 'look' })).status,
    ).toBe(201);
    expect((await support.del('/impersonation')).status).toBe(204);
    expect(await views()).toBe(1);
    expect((await noticesOf('ops@away.test')).length).toBe(1);
  });

  it('sees the view stop when the person viewing is deleted', async () => {
    const carrierId = (await admin.get('/me')).body.account.id;
    const supportGroup = (await support.get('/me')).body.group.id;
    const agent = await admin.post('/users', {
      email: 'leaving@carrier.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: supportGroup,
    });
    expect(agent.status).toBe(201);
    const leaving = await apiClient(suite.server.url, 'leaving@carrier.test', PASSWORD);
    const started = await leaving.post('/impersonation', {
      userId: resellerUserId,
      reason: 'last ticket',
    });
    expect(started.status).toBe(201);
    expect((await admin.del(`/users/${agent.body.id}`)).status).toBe(204);
    const audit = (await reseller.get(`/audit?resource=impersonation&entityId=${started.body.id}`))
      .body.items as { op: string }[];
    expect(audit.map((entry) => entry.op)).toEqual(['deleted', 'created']);
    const [row] = await suite.orm.em
      .fork()
      .execute<{ ended_at: Date | null }[]>('select ended_at from impersonation where id = ?', [
        started.body.id,
      ]);
    expect(row!.ended_at).not.toBeNull();
  });

  it('sees the view stop when the person viewed is deleted', async () => {
    const acmeId = (await reseller.get('/me')).body.account.id as string;
    const group = (await reseller.get('/me')).body.group.id as string;
    const temp = await admin.post('/users', {
      email: 'temp@acme.test',
      password: PASSWORD,
      accountId: acmeId,
      groupId: group,
    });
    expect(temp.status).toBe(201);
    const started = await support.post('/impersonation', {
      userId: temp.body.id,
      reason: 'ticket',
    });
    expect(started.status).toBe(201);
    expect((await admin.del(`/users/${temp.body.id}`)).status).toBe(204);
    const audit = (await reseller.get(`/audit?resource=impersonation&entityId=${started.body.id}`))
      .body.items as { op: string }[];
    expect(audit.map((entry) => entry.op)).toEqual(['deleted', 'created']);
    // Support is itself again, with nothing left to stop.
    expect((await support.get('/me')).body.user.email).toBe('support@carrier.test');
    expect((await support.del('/impersonation')).status).toBe(404);
  });
});
