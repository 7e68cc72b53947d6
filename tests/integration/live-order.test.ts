import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { mutate, setBeforeCommitHookForTests } from '@/lib/server/live/change-log';
import { logHeads } from '@/lib/server/live/read-log';
import type { TActor } from '@/lib/server/authz/actor';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { apiClient } from '../fixtures/api-client';
import { connectLiveClient, until, type TLiveClient } from '../fixtures/live-client';
import { actorByEmail } from '../fixtures/cookie-listener';

/**
 * Ordering at the socket (DESIGN §2 "Commit order is the order"): many writer
 * transactions, each waiting a varied time between writing its log row and committing,
 * commit concurrently through their own ORM; every client receives every event it may see
 * exactly once, in commit order, with no gap — judged against what the writers wrote,
 * not against the server's own audience function. Two carriers write at once: each
 * carrier's order is its own (positions per carrier), and neither sees the other.
 */
const ADMIN = { email: 'admin@order.test', password: 'order-admin-pass' };
const ADMIN2 = { email: 'admin@second.order.test', password: 'second-admin-pass' };
const PASSWORD = 'order-user-pass';
const WRITERS = 16;
const TRANSACTIONS = 6;
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

const clients: Record<string, TLiveClient> = {};
const tokens: Record<string, string> = {};
const paths: Record<'carrier' | 'r1' | 'r2' | 'carrier2', string> = {} as never;
let writer: TActor;
let writer2: TActor;

beforeAll(async () => {
  const admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const me = (await admin.get('/me')).body;
  const template = (await admin.post('/groups', { template: 'default-reseller' })).body;
  const support = (
    await admin.post('/groups', { name: 'Support', grants: ['customers:read', 'resellers:read'] })
  ).body;
  const r1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@order.test' })).body;
  const r2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@order.test' })).body;
  paths.carrier = `${me.account.id}/`; // a carrier is a root: its path is its id
  paths.r1 = `${paths.carrier}${r1.id}/`;
  paths.r2 = `${paths.carrier}${r2.id}/`;
  const users = [
    { email: 'support@order.test', accountId: me.account.id, groupId: support.id },
    { email: 'ops@r1.order.test', accountId: r1.id, groupId: template.id },
    { email: 'ops@r2.order.test', accountId: r2.id, groupId: template.id },
  ];
  for (const user of users) {
    expect((await admin.post('/users', { ...user, password: PASSWORD })).status).toBe(201);
  }
  // A second carrier (tenant), made the way the operations command makes one.
  const { carrier: carrier2 } = await createCarrier(suite.orm.em.fork(), {
    name: 'Second Carrier',
    adminEmail: ADMIN2.email,
    adminPassword: ADMIN2.password,
  });
  paths.carrier2 = `${carrier2.id}/`;
  const logins = [
    ['admin', ADMIN.email, ADMIN.password],
    ['admin2', ADMIN2.email, ADMIN2.password],
    ['support', 'support@order.test', PASSWORD],
    ['r1', 'ops@r1.order.test', PASSWORD],
    ['r2', 'ops@r2.order.test', PASSWORD],
  ] as const;
  // Every token before any client listens: a token issued is a sign-in, news to those
  // who read its person (a `users.refetch` signal), which the counts below leave out.
  for (const [name, email, password] of logins) {
    tokens[name] = (await requestToken(suite.server.url, email, password)).body.token;
  }
  for (const [name] of logins) {
    clients[name] = connectLiveClient(suite.server.url, tokens[name]!, name);
    await clients[name].waitForHello(1);
  }
  // The admins as the door makes them: each write judges its author again (actor-holds).
  writer = await actorByEmail(suite.orm.em.fork(), ADMIN.email);
  writer2 = await actorByEmail(suite.orm.em.fork(), ADMIN2.email);
});

afterAll(() => {
  for (const client of Object.values(clients)) client.close();
});

describe('live ordering under concurrent writers', () => {
  it('delivers every visible event exactly once, in commit order, with no gap', async () => {
    const places = [paths.carrier, paths.r1, paths.r2];
    const written: { id: string; scope: string }[] = [];
    const written2: { id: string; scope: string }[] = [];
    const headsBefore = await logHeads(suite.orm.em.fork());
    // 0–45 ms between taking a seq (the log row) and committing: without the lock a later
    // seq would commit first, and the fan-out would pass over the earlier one.
    let transactions = 0;
    setBeforeCommitHookForTests(async (tx) => {
      const n = transactions++;
      await tx.execute('select pg_sleep(?)', [((n * 7) % 10) / 200]);
    });
    onTestFinished(() => setBeforeCommitHookForTests(undefined));
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let t = 0; t < TRANSACTIONS; t++) {
          const id = randomUUID();
          // Every fourth writer writes in the second carrier, at the same time.
          const second = w % 4 === 3;
          const scope = second ? paths.carrier2 : places[(w + t) % places.length]!;
          await mutate(suite.orm.em.fork(), second ? writer2 : writer, async (_tx, record) => {
            record({
              resource: 'customers',
              entityId: id,
              op: 'created',
              version: 1,
              before: null,
              after: { id, name: `w${w}-t${t}`, version: 1 },
              scopeBefore: null,
              scopeAfter: scope,
            });
          });
          (second ? written2 : written).push({ id, scope });
        }
      }),
    );
    expect(written.length + written2.length).toBe(WRITERS * TRANSACTIONS);
    // Sentinels, written after everything else: one each reseller (and so every viewer)
    // sees. Events arrive in seq order, so once a viewer has its sentinels nothing it may
    // see is still on the way, and anything extra would already be there.
    for (const scope of [paths.r1, paths.r2, paths.carrier2]) {
      const id = randomUUID();
      const inSecond = scope === paths.carrier2;
      await mutate(suite.orm.em.fork(), inSecond ? writer2 : writer, async (_tx, record) =>
        record({
          resource: 'customers',
          entityId: id,
          op: 'created',
          version: 1,
          before: null,
          after: { id, name: 'sentinel', version: 1 },
          scopeBefore: null,
          scopeAfter: scope,
        }),
      );
      (inSecond ? written2 : written).push({ id, scope });
    }

    const expected = {
      admin: written,
      admin2: written2,
      support: written,
      r1: written.filter((w) => w.scope.startsWith(paths.r1)),
      r2: written.filter((w) => w.scope.startsWith(paths.r2)),
    };
    for (const [name, want] of Object.entries(expected)) {
      const client = clients[name]!;
      const sentinels = want
        .slice(-(name === 'admin' || name === 'support' ? 2 : 1))
        .map((w) => w.id);
      await until(
        () => sentinels.every((id) => client.raw.some((e) => e.id === id)),
        `${name} to receive its sentinels`,
      );
      const seqs = client.raw.map((e) => e.seq);
      // Exactly once, strictly rising: commit order with no repeat.
      expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
      // No gap and nothing extra: exactly the events this viewer may see.
      expect(new Set(client.raw.map((e) => e.id))).toEqual(new Set(want.map((w) => w.id)));
      expect(client.raw).toHaveLength(want.length);
    }
    // Every entry written here is its carrier admin's to see: from the carrier's head
    // before the writes, its positions run on without a hole, whatever the other
    // carrier wrote meanwhile.
    for (const [name, carrierPath] of [
      ['admin', paths.carrier],
      ['admin2', paths.carrier2],
    ] as const) {
      const from = headsBefore.get(carrierPath.slice(0, -1)) ?? 0;
      const seqs = clients[name]!.raw.map((e) => e.seq).filter((seq) => seq > from);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => from + 1 + i));
      expect(seqs).toHaveLength(expected[name].length);
      // Catch-up speaks the same positions: from the same point, the same entries.
      const page = await fetch(`${suite.server.url}/api/v1/events?since=${from}&limit=1000`, {
        headers: { authorization: `Bearer ${tokens[name]}` },
      });
      const body = (await page.json()) as { items: { seq: number; id: string }[] };
      expect(body.items.map((e) => [e.seq, e.id])).toEqual(
        clients[name]!.raw.filter((e) => e.seq > from).map((e) => [e.seq, e.id]),
      );
    }
    // Commit order is one order for everyone: r1's events sit in admin's sequence in the same order.
    const adminOrder = clients.admin!.raw.map((e) => e.id);
    const r1Order = clients.r1!.raw.map((e) => e.id);
    expect(adminOrder.filter((id) => r1Order.includes(id))).toEqual(r1Order);
    console.log(
      `ordering: ${WRITERS} writers × ${TRANSACTIONS} transactions, deliveries checked: ${Object.values(
        clients,
      ).reduce((n, c) => n + c.raw.length, 0)}`,
    );
  });
});
