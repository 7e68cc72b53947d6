import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchUp } from '@/lib/server/services/events/catch-up';
import { resolveActor, type TActor } from '@/lib/server/authz/actor';
import { getRuntime } from '@/lib/server/runtime';
import { RecentLog } from '@/lib/server/live/recent-log';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import type { TEventsAck } from '@/lib/shared/live/events';
import { usePanelSuite } from '../fixtures/panel-suite';
import { appendRawLogRow } from '../fixtures/raw-log';
import { useMigratedDatabase } from '../fixtures/migrated-database';
import { apiClient, bearerCall, type TApiClient } from '../fixtures/api-client';
import { listenAs, type TCookieListener } from '../fixtures/cookie-listener';

/**
 * The first slice of live sync: per-process fan-out from the change log to rooms, actor
 * names projected per viewer, and catch-up answering the same as live.
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'live-fan-out-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

type TListener = TCookieListener;
const listeners: Record<'admin' | 'support' | 'r1' | 'r2', TListener> = {} as never;
let r1Id: string;

const listen = (client: TApiClient) => listenAs(suite.server.url, client);

let r2Id: string;
/** A reseller, and customers of R1 and R2, made before anyone listens; renamed as sentinels. */
const marker = { reseller: '', r1: '', r2: '' };
let sentinels = 0;

/** A sentinel's event (settle() writes them, then takes them back out of what arrived). */
const isSentinel = (e: TChangeEnvelope) =>
  (e.type === 'resellers.updated' && e.id === marker.reseller) ||
  (e.type === 'customers.updated' && (e.id === marker.r1 || e.id === marker.r2));

/**
 * Waits until every change written so far has reached every listener: renames a reseller
 * (the carrier's listeners see it, whatever their grants) and a customer under each one
 * (each reseller's listener sees its own), then waits for each listener's. Events arrive
 * in commit order, so once a listener has its sentinels, anything before them that it
 * may see has arrived, and nothing more is on the way.
 */
async function settle() {
  const admin = listeners.admin.client;
  const marks: Record<string, number> = {};
  for (const [kind, id] of [
    ['resellers', marker.reseller],
    ['customers', marker.r1],
    ['customers', marker.r2],
  ] as const) {
    const current = (await admin.get(`/${kind}/${id}`)).body;
    const renamed = await admin.patch(`/${kind}/${id}`, {
      version: current.version,
      name: `Sentinel ${++sentinels}`,
    });
    expect(renamed.status).toBe(200);
    marks[id] = renamed.body.version;
  }
  const sees: Record<keyof typeof listeners, string[]> = {
    admin: [marker.reseller, marker.r1, marker.r2],
    support: [marker.reseller],
    r1: [marker.r1],
    r2: [marker.r2],
  };
  for (const [name, ids] of Object.entries(sees)) {
    const listener = listeners[name as keyof typeof listeners];
    if (!listener.socket.connected) continue;
    await until(
      () =>
        ids.every((id) =>
          listener.received.some(
            (e) => isSentinel(e) && e.id === id && e.data.version === marks[id],
          ),
        ),
      `${name} to receive its sentinels`,
    );
  }
  for (const listener of Object.values(listeners)) {
    const kept = listener.received.filter((e) => !isSentinel(e));
    listener.received.splice(0, listener.received.length, ...kept);
  }
}

async function until(check: () => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  const admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const carrierId = (await admin.get('/me')).body.account.id;
  const reseller = await admin.post('/groups', { template: 'default-reseller' });
  const support = await admin.post('/groups', {
    name: 'Support',
    grants: ['resellers:read', 'customers:read'],
  });
  r1Id = (await admin.post('/resellers', { name: 'R1', email: 'r1@x.test' })).body.id;
  r2Id = (await admin.post('/resellers', { name: 'R2', email: 'r2@x.test' })).body.id;
  marker.reseller = (await admin.post('/resellers', { name: 'Marker', email: 'm@x.test' })).body.id;
  marker.r1 = (await admin.post('/customers', { name: 'Marker 1', parentId: r1Id })).body.id;
  marker.r2 = (await admin.post('/customers', { name: 'Marker 2', parentId: r2Id })).body.id;
  await admin.post('/users', {
    email: 'support@carrier.test',
    password: PASSWORD,
    accountId: carrierId,
    groupId: support.body.id,
  });
  await admin.post('/users', {
    email: 'ops@r1.test',
    password: PASSWORD,
    accountId: r1Id,
    groupId: reseller.body.id,
  });
  await admin.post('/users', {
    email: 'ops@r2.test',
    password: PASSWORD,
    accountId: r2Id,
    groupId: reseller.body.id,
  });
  // Everyone signs in before anyone listens: a sign-in is news to those who read its
  // person (a `users.refetch` signal), which these tests do not count.
  const supportClient = await apiClient(suite.server.url, 'support@carrier.test', PASSWORD);
  const r1Client = await apiClient(suite.server.url, 'ops@r1.test', PASSWORD);
  const r2Client = await apiClient(suite.server.url, 'ops@r2.test', PASSWORD);
  listeners.admin = await listen(admin);
  listeners.support = await listen(supportClient);
  listeners.r1 = await listen(r1Client);
  listeners.r2 = await listen(r2Client);
});

afterAll(() => {
  for (const listener of Object.values(listeners)) listener.socket?.close();
});

describe('live fan-out', () => {
  it('delivers each change to exactly its audience, naming the actor only to those who may read them', async () => {
    const byAdmin = await listeners.admin.client.post('/customers', {
      name: 'Hotel Alpine',
      parentId: r1Id,
    });
    const byReseller = await listeners.r1.client.post('/customers', { name: 'Clinic Borealis' });
    await listeners.r1.client.del(`/customers/${byReseller.body.id}`);
    await settle();

    const summary = (listener: TListener) =>
      listener.received.map((e) => [e.type, e.data.name ?? null, e.actor]);
    const adminUser = {
      kind: 'user',
      id: expect.any(String),
      name: expect.any(String),
      email: ADMIN.email,
    };
    const r1User = {
      kind: 'user',
      id: expect.any(String),
      name: expect.any(String),
      email: 'ops@r1.test',
    };
    expect(summary(listeners.admin)).toEqual([
      ['customers.created', 'Hotel Alpine', adminUser],
      ['customers.created', 'Clinic Borealis', r1User],
      ['customers.deleted', null, r1User],
    ]);
    // Support may not read users: it sees the acting account, never the person.
    expect(summary(listeners.support)).toEqual([
      ['customers.created', 'Hotel Alpine', { kind: 'account', name: 'Carrier' }],
      ['customers.created', 'Clinic Borealis', { kind: 'account', name: 'R1' }],
      ['customers.deleted', null, { kind: 'account', name: 'R1' }],
    ]);
    // The reseller learns that its carrier acted, not which agent.
    expect(summary(listeners.r1)).toEqual([
      ['customers.created', 'Hotel Alpine', { kind: 'account', name: 'Carrier' }],
      ['customers.created', 'Clinic Borealis', r1User],
      ['customers.deleted', null, r1User],
    ]);
    expect(listeners.r2.received).toEqual([]);
    expect(byAdmin.body.id).toBe(listeners.r1.received[0]!.id);
    // Seqs rise, and a deletion carries only the id.
    const seqs = listeners.admin.received.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(listeners.admin.received[2]!.data).toEqual({ id: byReseller.body.id });
  });

  it('catch-up after hello answers exactly what arrived live', async () => {
    for (const listener of Object.values(listeners)) {
      const response = await listener.client.get(`/events?since=${listener.hello.seq}`);
      expect(response.status).toBe(200);
      // settle() took its sentinels out of what arrived live; catch-up has them.
      expect(response.body.items.filter((e: TChangeEnvelope) => !isSentinel(e))).toEqual(
        listener.received,
      );
      expect(response.body.seq).toBeGreaterThanOrEqual(
        Math.max(listener.hello.seq, ...listener.received.map((e) => e.seq)),
      );
    }
  });

  it('events:since over the socket answers the very page of GET /events, and refuses what it would', async () => {
    for (const listener of Object.values(listeners)) {
      const http = await listener.client.get(`/events?since=${listener.hello.seq}&limit=1000`);
      const ack = (await listener.socket
        .timeout(5_000)
        .emitWithAck('events:since', { since: listener.hello.seq, limit: 1000 })) as TEventsAck;
      expect(ack).toEqual({ ok: true, page: http.body });
      expect(http.body.items.filter((e: TChangeEnvelope) => !isSentinel(e))).toEqual(
        listener.received,
      );
    }
    const ask = (payload: unknown) =>
      listeners.r1.socket
        .timeout(5_000)
        .emitWithAck('events:since', payload) as Promise<TEventsAck>;
    expect(await ask({ since: -1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringContaining('since') },
    });
    expect(await ask({ since: 0, limit: 5000 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringContaining('limit') },
    });
    expect(await ask({ since: 0, extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringContaining('extra') },
    });
    // The socket still works after refusals.
    expect(await ask({ since: listeners.r1.hello.seq })).toMatchObject({ ok: true });
  });

  it('sockets asking at once each get their own page; two of one session the same', async () => {
    // A second socket on r1's session: it shares r1's door check and log-state read when
    // they ask together (server/revocation.ts, catch-up.ts), no other socket's.
    const twin = await listen(listeners.r1.client);
    try {
      const since = Math.min(...Object.values(listeners).map((listener) => listener.hello.seq));
      const askers = [...Object.values(listeners), twin];
      const acks = (await Promise.all(
        askers.map((listener) =>
          listener.socket.timeout(5_000).emitWithAck('events:since', { since, limit: 1000 }),
        ),
      )) as TEventsAck[];
      const pages = new Set<string>();
      for (const [index, listener] of askers.entries()) {
        const http = await listener.client.get(`/events?since=${since}&limit=1000`);
        expect(acks[index]).toEqual({ ok: true, page: http.body });
        pages.add(JSON.stringify(http.body.items));
      }
      // Four people, four different views (the twin's is r1's).
      expect(pages.size).toBe(4);
    } finally {
      twin.socket.disconnect();
    }
  });

  it('a page from what the fan-out passed equals the page read from the log', async () => {
    // Every listener was connected since before the first hello's position, so the
    // fan-out read (and kept) every entry after it; catch-up then pages from memory.
    const recent = getRuntime().recent!;
    const em = suite.orm.em.fork();
    // Changes of its own, so that the test stands alone: each viewer sees some.
    await listeners.admin.client.post('/customers', { name: 'Kept Alpha', parentId: r1Id });
    await listeners.admin.client.post('/customers', { name: 'Kept Beta', parentId: r2Id });
    await listeners.r1.client.post('/customers', { name: 'Kept Gamma' });
    await settle();
    const since = Math.min(...Object.values(listeners).map((listener) => listener.hello.seq));
    const carrierId = (await listeners.admin.client.get('/me')).body.account.id;
    const head = (
      await em.execute<{ seq: string }[]>('select seq from carrier_log_head where carrier_id = ?', [
        carrierId,
      ])
    )[0]!.seq;
    expect(recent.after(carrierId, since, Number(head), 1e6)).toHaveLength(Number(head) - since);
    const options = { retentionDays: 7 };
    for (const [name, listener] of Object.entries(listeners)) {
      const userId = (await listener.client.get('/me')).body.user.id;
      const [user] = await em.execute<{ id: string; session_version: number }[]>(
        'select id, session_version from app_user where id = ?',
        [userId],
      );
      const actor = (await resolveActor(em, {
        userId: user!.id,
        sessionVersion: user!.session_version,
      }))!;
      // Pages of 3: a reseller's page from memory stops after looking at 30 entries, with
      // fewer items, where the log's narrowed read looks further; both end at the head.
      const pages = async (withRecent: boolean) => {
        const items: TChangeEnvelope[] = [];
        for (let at = since; ;) {
          const page = await catchUp(
            em,
            actor,
            { since: at, limit: 3 },
            withRecent ? { ...options, recent } : options,
          );
          items.push(...page.items);
          if (page.seq <= at) return { items, seq: at };
          at = page.seq;
        }
      };
      const fromMemory = await pages(true);
      const fromLog = await pages(false);
      expect(fromMemory.items.length, name).toBeGreaterThan(0);
      expect(fromMemory, name).toEqual(fromLog);
      expect(fromMemory.seq).toBe(Number(head));
    }
  });

  it('a page from memory ends where the tailer is; following its seq reaches the head', async () => {
    // A caller writes, then asks for what changed: the tailer may not have read that
    // commit yet. Memory then answers up to where it has read, and says so by its `seq`;
    // the next page (from the log) holds the rest. Reading the rest into the same page
    // was tried (2458e61) and slowed the reconnect storm by a fifth to a half: its
    // sockets come back while the tailer reads the last edits.
    const em = suite.orm.em.fork();
    const since = listeners.admin.hello.seq;
    await listeners.admin.client.post('/customers', { name: 'Read Back', parentId: r1Id });
    await settle();
    const carrierId = (await listeners.admin.client.get('/me')).body.account.id;
    const head = Number(
      (
        await em.execute<{ seq: string }[]>(
          'select seq from carrier_log_head where carrier_id = ?',
          [carrierId],
        )
      )[0]!.seq,
    );
    const lagging = new RecentLog(1e6);
    for (const entry of getRuntime().recent!.after(carrierId, since, head - 1, 1e6)!) {
      lagging.remember(entry);
    }
    const [user] = await em.execute<{ id: string; session_version: number }[]>(
      'select id, session_version from app_user where email = ?',
      [ADMIN.email],
    );
    const actor = (await resolveActor(em, {
      userId: user!.id,
      sessionVersion: user!.session_version,
    }))!;
    const options = { retentionDays: 7 };
    const first = await catchUp(em, actor, { since, limit: 1000 }, { ...options, recent: lagging });
    expect(first.seq).toBe(head - 1);
    const second = await catchUp(
      em,
      actor,
      { since: first.seq, limit: 1000 },
      { ...options, recent: lagging },
    );
    expect(second.seq).toBe(head);
    // Together, exactly the log's one page: nothing lost, nothing twice.
    const fromLog = await catchUp(em, actor, { since, limit: 1000 }, options);
    expect([...first.items, ...second.items]).toEqual(fromLog.items);
    expect(fromLog.items.at(-1)!.seq).toBe(head);
  });

  it('validates since', async () => {
    const bad = await listeners.r1.client.get('/events?since=-1');
    expect(bad).toMatchObject({
      status: 400,
      body: { error: { fields: { since: expect.any(String) } } },
    });
  });
});

describe('live revocation', () => {
  it("changing a group's grants re-scopes its sockets from the next event on", async () => {
    const support = listeners.support;
    const rescoped = new Promise<{ grants: string[] }>((resolve) =>
      support.socket.once('session.rescoped', resolve),
    );
    const groups = (await listeners.admin.client.get('/groups')).body.items as {
      id: string;
      name: string;
      version: number;
    }[];
    const group = groups.find((g) => g.name === 'Support')!;
    const patched = await listeners.admin.client.patch(`/groups/${group.id}`, {
      version: group.version,
      grants: ['resellers:read'],
    });
    expect(patched.status).toBe(200);
    expect((await rescoped).grants).toEqual(['resellers:read']);

    const seen = support.received.length;
    await settle();
    await listeners.admin.client.post('/customers', { name: 'Not for support' });
    const reseller = await listeners.admin.client.post('/resellers', {
      name: 'R3',
      email: 'r3@x.test',
    });
    await settle();
    expect(support.received.slice(seen).map((e) => [e.type, e.id])).toEqual([
      ['resellers.created', reseller.body.id],
    ]);
    expect(support.socket.connected).toBe(true);
  });

  it("moving a user to another group re-scopes its sockets, and its cookie and token carry the new group's grants", async () => {
    const support = listeners.support;
    const admin = listeners.admin.client;
    const token = await admin.post('/auth/token', {
      email: 'support@carrier.test',
      password: PASSWORD,
    });
    expect(token.status).toBe(201);
    const wider = await admin.post('/groups', {
      name: 'Support, wider',
      grants: ['resellers:read', 'customers:read'],
    });
    expect(wider.status).toBe(201);
    const revoked: unknown[] = [];
    support.socket.on('session.revoked', (payload) => revoked.push(payload));
    const rescoped = new Promise<{ grants: string[]; group: { id: string } }>((resolve) =>
      support.socket.once('session.rescoped', resolve),
    );
    const user = (
      (await admin.get('/users')).body.items as { id: string; email: string; version: number }[]
    ).find((u) => u.email === 'support@carrier.test')!;
    const moved = await admin.patch(`/users/${user.id}`, {
      version: user.version,
      groupId: wider.body.id,
    });
    expect(moved.status).toBe(200);
    const now = await rescoped;
    expect(now.group.id).toBe(wider.body.id);
    expect([...now.grants].sort()).toEqual(['customers:read', 'resellers:read']);
    // DESIGN §3 lists it among the `change` event's types: sent there too, with the
    // position before the group change's entry to resume from.
    const asChange = support.sessions.at(-1)!;
    expect(asChange).toMatchObject({ type: 'session.rescoped', id: user.id });
    expect(asChange.data).toEqual(JSON.parse(JSON.stringify(now)));
    const head = (await admin.get(`/events?since=${listeners.admin.hello.seq}&limit=1000`)).body
      .seq as number;
    expect(asChange.seq).toBeGreaterThanOrEqual(support.hello.seq);
    expect(asChange.seq).toBeLessThan(head);
    // The same cookie and the same token go on, under the new group.
    const byCookie = await support.client.get('/me');
    expect(byCookie.status).toBe(200);
    expect(byCookie.body.group.id).toBe(wider.body.id);
    const byToken = await bearerCall(suite.server.url, token.body.token, 'GET', '/customers');
    expect(byToken.status).toBe(200);
    // And the socket hears what the new group may read, from the next event on.
    const seen = support.received.length;
    await settle();
    const customer = await admin.post('/customers', { name: 'For the wider group' });
    await settle();
    expect(support.received.slice(seen).map((e) => [e.type, e.id])).toEqual([
      ['customers.created', customer.body.id],
    ]);
    expect(support.socket.connected).toBe(true);
    expect(revoked).toEqual([]);
  });

  it('disabling a user ends its sockets within a second', async () => {
    const r2 = listeners.r2;
    const revoked = new Promise<{ reason: string }>((resolve) =>
      r2.socket.once('session.revoked', resolve),
    );
    const disconnected = new Promise<number>((resolve) =>
      r2.socket.once('disconnect', () => resolve(Date.now())),
    );
    const user = (
      (await listeners.admin.client.get('/users')).body.items as {
        id: string;
        email: string;
        version: number;
      }[]
    ).find((u) => u.email === 'ops@r2.test')!;
    const started = Date.now();
    const disabled = await listeners.admin.client.patch(`/users/${user.id}`, {
      version: user.version,
      status: 'disabled',
    });
    expect(disabled.status).toBe(200);
    expect((await revoked).reason).toMatch(/access changed/i);
    // Also as a `change` envelope of type session.revoked (DESIGN §3), before the close.
    expect(r2.sessions.map((envelope) => [envelope.type, envelope.data])).toContainEqual([
      'session.revoked',
      { reason: 'Your access changed; sign in again.', code: 'ended' },
    ]);
    const latency = (await disconnected) - started;
    console.log(
      `revocation: disabled user's socket closed ${latency} ms after the request started`,
    );
    expect(latency).toBeLessThan(1_000);
  });
});

describe('catch-up for someone who came later', () => {
  it('answers resync_required for a point from before the person existed', async () => {
    const admin = listeners.admin.client;
    const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
    const made = async (email: string) => {
      const user = await admin.post('/users', {
        email,
        password: PASSWORD,
        accountId: r1Id,
        groupId: group,
      });
      expect(user.status).toBe(201);
      return user.body.id as string;
    };
    // Someone of R1 made, at work and deleted: the entries tell of them.
    const early = await made('early@r1.test');
    const since = (await admin.get(`/events?since=${listeners.admin.hello.seq}&limit=1`)).body
      .seq as number;
    expect((await admin.del(`/users/${early}`)).status).toBe(204);
    await made('late@r1.test');
    const newcomer = await apiClient(suite.server.url, 'late@r1.test', PASSWORD);
    // From before it existed: not a replay of what was never its to receive.
    const before = await newcomer.get(`/events?since=${since}&limit=100`);
    expect(before.status).toBe(410);
    expect(before.body.error.code).toBe('resync_required');
    expect(JSON.stringify(before.body)).not.toContain('early@r1.test');
    // From its own time on, as anyone.
    const head = (await admin.get(`/events?since=${since}&limit=1000`)).body.seq as number;
    expect((await newcomer.get(`/events?since=${head}&limit=100`)).status).toBe(200);
    // From 0 ("I hold nothing"): no state to make stale, so it is answered from its own
    // arrival — its own creation is the last entry before, nothing of `early` after.
    const fromNothing = await newcomer.get('/events?since=0&limit=1000');
    expect(fromNothing.status, JSON.stringify(fromNothing.body)).toBe(200);
    expect(fromNothing.body.seq).toBe(head);
    expect(JSON.stringify(fromNothing.body)).not.toContain('early@r1.test');
    // And the carrier's admin from 0: the log from its own creation on, its own
    // customer's creation among it.
    const made2 = await admin.post('/customers', { name: 'Seen from zero', parentId: r1Id });
    expect(made2.status).toBe(201);
    const all = await admin.get('/events?since=0&limit=1000');
    expect(all.status).toBe(200);
    expect(
      all.body.items.some(
        (item: { type: string; id: string }) =>
          item.type === 'customers.created' && item.id === made2.body.id,
      ),
    ).toBe(true);
  });

  it('answers resync_required for a point past the head, and 400 for an empty one', async () => {
    const admin = listeners.admin.client;
    const head = (await admin.get(`/events?since=${listeners.admin.hello.seq}&limit=1000`)).body
      .seq as number;
    // A cursor from another database (or before a restore): "nothing yet" would skip
    // every entry up to it once the log got there.
    const ahead = await admin.get(`/events?since=${head + 50}`);
    expect(ahead.status).toBe(410);
    expect(ahead.body.error.code).toBe('resync_required');
    const empty = await admin.get('/events?since=');
    expect(empty.status).toBe(400);
    expect(empty.body.error.fields).toHaveProperty('since');
    expect((await admin.get(`/events?since=${head}`)).body).toEqual({ items: [], seq: head });
  });
});

describe('catch-up window', () => {
  // A database of its own: the rows below are older than any the panel's would hold.
  const isolated = useMigratedDatabase();

  it('answers 410 resync_required for a point older than the kept window', async () => {
    const em = isolated.orm.em.fork();
    const carrierId = '00000000-0000-4000-8000-0000000000c1';
    for (const daysAgo of [10, 9, 0]) {
      await appendRawLogRow(em, {
        carrierId,
        resource: 'customers',
        entityId: crypto.randomUUID(),
        op: 'created',
        scopeBefore: `${carrierId}/`,
        scopeAfter: `${carrierId}/`,
        at: new Date(Date.now() - daysAgo * 86_400_000),
      });
    }
    const actor = {
      userId: '00000000-0000-4000-8000-0000000000aa',
      account: { id: carrierId, path: `${carrierId}/` },
      group: { id: '00000000-0000-4000-8000-0000000000bb' },
      grants: ['customers:read'],
    } as unknown as TActor;
    await expect(
      catchUp(em, actor, { since: 0, limit: 10 }, { retentionDays: 7 }),
    ).rejects.toMatchObject({
      kind: 'gone',
      code: 'resync_required',
    });
    const recent = await catchUp(em, actor, { since: 2, limit: 10 }, { retentionDays: 7 });
    expect(recent.items.map((item) => item.seq)).toEqual([3]);
    expect(recent.seq).toBe(3);
  });

  it('reads a window of the log a page: a viewer who sees little follows seq to the head', async () => {
    // 2,500 entries of one reseller's, then one of its sibling's: the sibling's page of one
    // walked all 2,500 to fill it (a quiet viewer's every page scanned the whole log).
    const em = isolated.orm.em.fork();
    const carrierId = '00000000-0000-4000-8000-0000000000c3';
    const [busy, quiet] = [crypto.randomUUID(), crypto.randomUUID()];
    const pathOf = (id: string) => `${carrierId}/${id}/`;
    await em.execute(
      `with head as (
         insert into carrier_log_head as h (carrier_id, seq) values (?, 2500)
         on conflict (carrier_id) do update set seq = h.seq + 2500 returning seq)
       insert into change_log (carrier_id, carrier_seq, at, resource, entity_id, op, after,
                               scope_before, scope_after)
       select ?, head.seq - 2500 + n, now(), 'customers', gen_random_uuid(), 'created',
              '{"name":"Busy"}'::jsonb, ?, ?
         from head, generate_series(1, 2500) n`,
      [carrierId, carrierId, pathOf(busy), pathOf(busy)],
    );
    const seen = await appendRawLogRow(em, {
      carrierId,
      resource: 'customers',
      entityId: crypto.randomUUID(),
      op: 'created',
      after: { name: 'Quiet' },
      scopeBefore: pathOf(quiet),
      scopeAfter: pathOf(quiet),
    });
    expect(seen).toBe(2501);
    const actor = {
      userId: crypto.randomUUID(),
      account: { id: quiet, path: pathOf(quiet) },
      group: { id: '00000000-0000-4000-8000-0000000000bb' },
      grants: ['customers:read'],
    } as unknown as TActor;
    const options = { retentionDays: 7 };
    const first = await catchUp(em, actor, { since: 0, limit: 1 }, options);
    expect(first).toEqual({ items: [], seq: 2000 });
    const second = await catchUp(em, actor, { since: first.seq, limit: 1 }, options);
    expect(second.items.map((item) => item.seq)).toEqual([2501]);
    expect(second.seq).toBe(2501);
    // The busy reseller's full pages end at their last entry, as before.
    const busyActor = { ...actor, account: { id: busy, path: pathOf(busy) } } as TActor;
    const full = await catchUp(em, busyActor, { since: 0, limit: 1000 }, options);
    expect(full.items).toHaveLength(1000);
    expect(full.seq).toBe(1000);
  });

  it('shares a page between callers at the same head, and reads afresh once the head moves', async () => {
    const em = isolated.orm.em.fork();
    const carrierId = '00000000-0000-4000-8000-0000000000c2';
    const append = () =>
      appendRawLogRow(em, {
        carrierId,
        resource: 'customers',
        entityId: crypto.randomUUID(),
        op: 'created',
        after: { name: 'Shared page' },
        scopeBefore: `${carrierId}/`,
        scopeAfter: `${carrierId}/`,
      });
    for (let i = 0; i < 3; i++) await append();
    const viewer = (userId: string) =>
      ({
        userId,
        account: { id: carrierId, path: `${carrierId}/` },
        group: { id: '00000000-0000-4000-8000-0000000000bb' },
        grants: ['customers:read'],
      }) as unknown as TActor;
    const options = { retentionDays: 7 };
    const first = await catchUp(em, viewer(crypto.randomUUID()), { since: 0, limit: 10 }, options);
    const second = await catchUp(em, viewer(crypto.randomUUID()), { since: 0, limit: 10 }, options);
    expect(first.items.map((item) => item.seq)).toEqual([1, 2, 3]);
    // One read and one audience decision served both: the very same envelopes.
    expect(second.items).toHaveLength(3);
    second.items.forEach((item, i) => expect(item).toBe(first.items[i]));
    // A new entry moves the head: the same question is a new page, never the kept one.
    await append();
    const later = await catchUp(em, viewer(crypto.randomUUID()), { since: 0, limit: 10 }, options);
    expect(later.items.map((item) => item.seq)).toEqual([1, 2, 3, 4]);
    expect(later.seq).toBe(4);
  });
});
