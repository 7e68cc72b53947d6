import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { migrate, openOrm } from '@/lib/server/db/orm';
import { catchUp } from '@/lib/server/services/events/catch-up';
import type { TActor } from '@/lib/server/authz/actor';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import type { TEventsAck, THello } from '@/lib/shared/live/events';
import { usePanelSuite } from '../fixtures/panel-suite';
import { createTestDatabase } from '../fixtures/test-database';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * The first slice of live sync: per-process fan-out from the change log to rooms, actor
 * names projected per viewer, and catch-up answering the same as live.
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'live-fan-out-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

interface TListener {
  client: TApiClient;
  hello: THello;
  received: TChangeEnvelope[];
  socket: Socket;
}
const listeners: Record<'admin' | 'support' | 'r1' | 'r2', TListener> = {} as never;
let r1Id: string;

async function listen(client: TApiClient): Promise<TListener> {
  const socket = io(suite.server.url, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: { cookie: client.cookie },
  });
  const received: TChangeEnvelope[] = [];
  socket.on('change', (envelope) => received.push(envelope));
  const hello = await new Promise<THello>((resolve, reject) => {
    socket.once('hello', resolve);
    socket.once('connect_error', reject);
  });
  return { client, hello, received, socket };
}

/** Waits until every listener's count is stable (the fan-out is asynchronous). */
async function settle(expected: Partial<Record<keyof typeof listeners, number>>) {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (
      Object.entries(expected).every(
        ([name, n]) => listeners[name as keyof typeof listeners].received.length >= n!,
      )
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 150)); // and nothing more arrives
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
  const r2Id = (await admin.post('/resellers', { name: 'R2', email: 'r2@x.test' })).body.id;
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
  listeners.admin = await listen(admin);
  listeners.support = await listen(
    await apiClient(suite.server.url, 'support@carrier.test', PASSWORD),
  );
  listeners.r1 = await listen(await apiClient(suite.server.url, 'ops@r1.test', PASSWORD));
  listeners.r2 = await listen(await apiClient(suite.server.url, 'ops@r2.test', PASSWORD));
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
    await settle({ admin: 3, support: 3, r1: 3 });

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
      expect(response.body.items).toEqual(listener.received);
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
      expect(http.body.items).toEqual(listener.received);
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
    await settle({});
    const adminBefore = listeners.admin.received.length;
    await listeners.admin.client.post('/customers', { name: 'Not for support' });
    const reseller = await listeners.admin.client.post('/resellers', {
      name: 'R3',
      email: 'r3@x.test',
    });
    await settle({ admin: adminBefore + 2 });
    expect(support.received.slice(seen).map((e) => [e.type, e.id])).toEqual([
      ['resellers.created', reseller.body.id],
    ]);
    expect(support.socket.connected).toBe(true);
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
    const latency = (await disconnected) - started;
    console.log(
      `revocation: disabled user's socket closed ${latency} ms after the request started`,
    );
    expect(latency).toBeLessThan(1_000);
  });
});

describe('catch-up window', () => {
  it('answers 410 resync_required for a point older than the kept window', async () => {
    const db = await createTestDatabase(inject('testDatabase'));
    const orm = await openOrm(db.url);
    try {
      await migrate(orm);
      const em = orm.em.fork();
      const row = `('customers', gen_random_uuid(), 'created', 'c/', 'c/', ?)`;
      await em.execute(
        `insert into change_log (resource, entity_id, op, scope_before, scope_after, at)
         values ${row}, ${row}, ${row}`,
        [new Date(Date.now() - 10 * 86_400_000), new Date(Date.now() - 9 * 86_400_000), new Date()],
      );
      const actor = {
        userId: '00000000-0000-4000-8000-0000000000aa',
        account: { id: 'c', path: 'c/' },
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
    } finally {
      await orm.close(true);
      await db.drop();
    }
  });
});
