import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { listenAs, type TCookieListener } from '../fixtures/cookie-listener';

/**
 * Live for the person (issue 15, item 5): what happens to a reseller's own account — a
 * rename by the carrier, a view-as started and stopped on one of its users, a card
 * assigned to it — reaches that reseller's sockets and no other reseller's, over a real
 * socket.
 */
const ADMIN = { email: 'admin@own-live.test', password: 'own-live-admin-pass' };
const PASSWORD = 'own-live-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

type TListener = TCookieListener;

let admin: TApiClient;
const ids = { r1: '', r2: '', r1User: '' };
const listeners = {} as Record<'r1' | 'r2', TListener>;

const listen = (client: TApiClient) => listenAs(suite.server.url, client);

async function until(check: () => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Renames R2: once R2's own signal has arrived, anything written before it has too. */
async function settleR2(): Promise<void> {
  const current = (await admin.get(`/resellers/${ids.r2}`)).body;
  await admin.patch(`/resellers/${ids.r2}`, {
    version: current.version,
    name: `R2 v${current.version + 1}`,
  });
  await until(
    () => listeners.r2.received.some((e) => e.id === ids.r2 && e.summary?.reason === 'own_account'),
    'R2 to receive its own rename',
  );
}

const forR1 = (e: TChangeEnvelope) =>
  e.id === ids.r1 || e.id === ids.r1User || JSON.stringify(e.data).includes(ids.r1);

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  ids.r1 = (await admin.post('/resellers', { name: 'Nimbus', email: 'r1@own.test' })).body.id;
  ids.r2 = (await admin.post('/resellers', { name: 'Other', email: 'r2@own.test' })).body.id;
  for (const [account, email] of [
    [ids.r1, 'ops@r1.own.test'],
    [ids.r2, 'ops@r2.own.test'],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId: account,
      groupId: group,
    });
    expect(made.status).toBe(201);
    if (account === ids.r1) ids.r1User = made.body.id;
  }
  listeners.r1 = await listen(await apiClient(suite.server.url, 'ops@r1.own.test', PASSWORD));
  listeners.r2 = await listen(await apiClient(suite.server.url, 'ops@r2.own.test', PASSWORD));
});

afterAll(() => {
  for (const listener of Object.values(listeners)) listener.socket?.close();
});

describe("a reseller's own account, live", () => {
  it("reaches the reseller's people when the carrier renames it, and no other reseller", async () => {
    const current = (await admin.get(`/resellers/${ids.r1}`)).body;
    const renamed = await admin.patch(`/resellers/${ids.r1}`, {
      version: current.version,
      name: 'Nimbus Telecom',
    });
    expect(renamed.status).toBe(200);
    await until(
      () => listeners.r1.received.some((e) => e.id === ids.r1),
      'R1 to hear of its rename',
    );
    const signal = listeners.r1.received.find((e) => e.id === ids.r1)!;
    expect(signal).toMatchObject({
      type: 'resellers.refetch',
      data: { id: ids.r1 },
      // Its users and assignments carry its name, its sub-accounts too: those refetch as well.
      summary: {
        refetch: ['resellers', 'customers', 'users', 'assignments'],
        reason: 'own_account',
      },
    });
    // What the header refetches: its own account, renamed.
    expect((await listeners.r1.client.get('/me')).body.account).toMatchObject({
      name: 'Nimbus Telecom',
      // Its own page states it (an actor exists only while it is active).
      status: 'active',
    });
    await settleR2();
    expect(listeners.r2.received.filter(forR1)).toEqual([]);
    // A socket away at that moment hears of it when it catches up (the same signal): the
    // entry is scoped to the parent, outside the reseller's subtree.
    const caughtUp = await listeners.r1.client.get(`/events?since=${signal.seq - 1}`);
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.items[0]).toMatchObject({
      seq: signal.seq,
      type: 'resellers.refetch',
      summary: { reason: 'own_account' },
    });
  });

  it("signals a view-as started and stopped on the reseller's user to that reseller only", async () => {
    listeners.r1.received.length = 0;
    const started = await admin.post('/impersonation', { userId: ids.r1User, reason: 'ticket 7' });
    expect(started.status).toBe(201);
    const stopped = await admin.del('/impersonation');
    expect(stopped.status).toBe(204);
    await until(
      () => listeners.r1.received.filter((e) => e.summary?.reason === 'view_as').length === 2,
      'R1 to hear of the view-as start and stop',
    );
    for (const signal of listeners.r1.received.filter((e) => e.summary?.reason === 'view_as')) {
      expect(signal).toMatchObject({ type: 'users.refetch', id: ids.r1, data: { id: ids.r1 } });
      expect(JSON.stringify(signal)).not.toContain('ticket 7');
    }
    // What the activity feed refetches: the audit shows the reseller both entries.
    const audit = (await listeners.r1.client.get('/audit?resource=impersonation')).body;
    expect(audit.items.map((item: { op: string }) => item.op)).toEqual(['deleted', 'created']);
    await settleR2();
    expect(listeners.r2.received.filter((e) => e.summary?.reason === 'view_as')).toEqual([]);
  });

  it('brings a card assigned to the reseller into its view, and not into another', async () => {
    listeners.r1.received.length = 0;
    const card = (
      await admin.post('/cards', { name: 'Carrier Retail', currency: 'EUR', kind: 'customer' })
    ).body;
    const assigned = await admin.post('/assignments', { cardId: card.id, accountId: ids.r1 });
    expect(assigned.status).toBe(201);
    await until(
      () => listeners.r1.received.some((e) => e.type === 'cards.added' && e.id === card.id),
      'R1 to receive the card',
    );
    await settleR2();
    expect(listeners.r2.received.filter((e) => e.id === card.id)).toEqual([]);
  });

  it('tells a person of an edit of their own user and a rename of their group, which they may not read', async () => {
    // A watcher of R1's customers: no users:read, a group from above it cannot read.
    const group = await admin.post('/groups', { name: 'Watchers', grants: ['customers:read'] });
    expect(group.status).toBe(201);
    const made = await admin.post('/users', {
      email: 'watch@r1.own.test',
      name: 'Wat',
      password: PASSWORD,
      accountId: ids.r1,
      groupId: group.body.id,
    });
    expect(made.status).toBe(201);
    const watcher = await listen(await apiClient(suite.server.url, 'watch@r1.own.test', PASSWORD));
    try {
      const renamedUser = await admin.patch(`/users/${made.body.id}`, {
        version: made.body.version,
        name: 'Watson',
      });
      expect(renamedUser.status).toBe(200);
      const renamedGroup = await admin.patch(`/groups/${group.body.id}`, {
        version: group.body.version,
        name: 'Night watch',
      });
      expect(renamedGroup.status).toBe(200);
      await until(() => watcher.received.length >= 2, 'the watcher to hear of both');
      // A bare signal each, naming only the user or the group: the header reads /me again.
      expect(watcher.received).toEqual([
        expect.objectContaining({
          type: 'users.refetch',
          id: made.body.id,
          data: { id: made.body.id },
          summary: { refetch: [], reason: 'own_identity' },
        }),
        expect.objectContaining({
          type: 'groups.refetch',
          id: group.body.id,
          data: { id: group.body.id },
          summary: { refetch: [], reason: 'own_identity' },
        }),
      ]);
      expect(JSON.stringify(watcher.received)).not.toContain('Watson');
      expect(JSON.stringify(watcher.received)).not.toContain('Night watch');
      expect((await watcher.client.get('/me')).body).toMatchObject({
        user: { name: 'Watson' },
        group: { name: 'Night watch' },
      });
      // Caught up after being away, the same signals.
      const caughtUp = await watcher.client.get(`/events?since=${watcher.received[0]!.seq - 1}`);
      expect(caughtUp.body.items).toEqual(watcher.received);

      // R1's ops people read R1's users: they get the change itself and nothing more, one
      // envelope for the position; R2's hear nothing of it.
      listeners.r1.received.length = 0;
      const again = await admin.patch(`/users/${ids.r1User}`, {
        version: (await admin.get(`/users/${ids.r1User}`)).body.version,
        name: 'Ops One',
      });
      expect(again.status).toBe(200);
      await until(
        () => listeners.r1.received.some((e) => e.id === ids.r1User),
        'R1 to hear of its user',
      );
      expect(listeners.r1.received.filter((e) => e.id === ids.r1User)).toEqual([
        expect.objectContaining({
          type: 'users.updated',
          data: expect.objectContaining({ name: 'Ops One' }),
        }),
      ]);
      await settleR2();
      expect(listeners.r2.received.filter((e) => e.id === ids.r1User)).toEqual([]);
    } finally {
      watcher.socket.close();
    }
  });

  it("lists the account's activity for a record page: itself, its people, its cards", async () => {
    const activity = await admin.get(`/audit?accountId=${ids.r1}&limit=100`);
    expect(activity.status).toBe(200);
    const seen = activity.body.items.map(
      (item: { resource: string; op: string; entityId: string }) =>
        `${item.resource}.${item.op}${item.entityId === ids.r1 ? ' (itself)' : ''}`,
    );
    expect(seen).toEqual(
      expect.arrayContaining([
        'resellers.updated (itself)',
        'resellers.created (itself)',
        'users.created',
        'impersonation.created',
        'impersonation.deleted',
        'assignments.created',
      ]),
    );
    // Nothing of the other reseller: its renames, its user.
    const ids2 = activity.body.items.map((item: { entityId: string }) => item.entityId);
    expect(ids2).not.toContain(ids.r2);
    // Its own people may read their subtree's; another reseller gets 404, bad input 400.
    expect((await listeners.r1.client.get(`/audit?accountId=${ids.r1}`)).status).toBe(200);
    expect((await listeners.r2.client.get(`/audit?accountId=${ids.r1}`)).status).toBe(404);
    const bad = await admin.get('/audit?accountId=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('accountId');
  });
});
