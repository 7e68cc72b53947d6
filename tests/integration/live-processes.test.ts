import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { TPresence } from '@/lib/shared/live/presence';
import { createTestDatabase, type TTestDatabase } from '../fixtures/test-database';
import { startPanelServer, type TPanelServer } from '../fixtures/panel-server';
import { requestToken } from '../fixtures/panel-suite';
import { bearerCall } from '../fixtures/api-client';
import { createClient } from 'redis';
import { adapterKey } from '@/server/redis-adapter';
import { redisAvailable, TEST_REDIS_URL } from '../fixtures/redis';
import { startBalancer } from '../fixtures/tcp-balancer';
import {
  byId,
  connectLiveClient,
  freshLists,
  until,
  type TLiveClient,
} from '../fixtures/live-client';

/**
 * Several server processes (DESIGN §2 "Fan-out from the log", §4): two panels on one
 * PostgreSQL and one Redis. A change committed through one reaches sockets on the other
 * (each tails the log); presence crosses processes through the Redis adapter; and when one
 * process is killed, its clients reconnect through the balancer to the other and catch up
 * without losing anything.
 */
const hasRedis = await redisAvailable();
const ADMIN = { email: 'admin@two.test', password: 'two-processes-pass' };
const PASSWORD = 'two-processes-user';

let db: TTestDatabase;
let a: TPanelServer;
let b: TPanelServer;
const opened: TLiveClient[] = [];
/** Bearer tokens by name, and user ids as `<name>:id`. */
const tokens: Record<string, string> = {};
const admin = () => tokens.admin!;

function call(server: TPanelServer, token: string, method: string, path: string, body?: unknown) {
  return bearerCall(server.url, token, method, path, body);
}

function client(url: string, who: string): TLiveClient {
  const live = connectLiveClient(url, tokens[who]!, who);
  opened.push(live);
  return live;
}

describe.skipIf(!hasRedis)('two server processes sharing PostgreSQL and Redis', () => {
  let r1Id: string;
  let carrierId: string;

  beforeAll(async () => {
    db = await createTestDatabase(inject('testDatabase'));
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    };
    a = await startPanelServer(env);
    b = await startPanelServer(env);
    tokens.admin = (await requestToken(a.url, ADMIN.email, ADMIN.password)).body.token;
    const me = (await call(a, admin(), 'GET', '/me')).body;
    carrierId = me.account.id;
    const template = (await call(a, admin(), 'POST', '/groups', { template: 'default-reseller' }))
      .body;
    const ops = (
      await call(a, admin(), 'POST', '/groups', {
        name: 'Ops',
        grants: ['resellers:read', 'customers:read', 'users:read', 'users:update'],
      })
    ).body;
    r1Id = (await call(a, admin(), 'POST', '/resellers', { name: 'R1', email: 'r1@two.test' })).body
      .id;
    const people = [
      ['ops', 'ops@two.test', carrierId, ops.id],
      ['r1', 'ops@r1.two.test', r1Id, template.id],
      ['doomed', 'doomed@r1.two.test', r1Id, template.id],
    ] as const;
    for (const [who, email, accountId, groupId] of people) {
      const created = await call(a, admin(), 'POST', '/users', {
        email,
        password: PASSWORD,
        accountId,
        groupId,
      });
      expect(created.status).toBe(201);
      tokens[`${who}:id`] = created.body.id;
      tokens[who] = (await requestToken(b.url, email, PASSWORD)).body.token;
    }
  });

  afterAll(async () => {
    for (const live of opened) live.close();
    await a?.stop();
    await b?.stop();
    await db?.drop();
  });

  it('a change committed through one process reaches a socket on the other', async () => {
    const onA = client(a.url, 'admin');
    const onB = client(b.url, 'r1');
    await Promise.all([onA.waitForHello(1), onB.waitForHello(1)]);
    const viaA = await call(a, admin(), 'POST', '/customers', {
      name: 'Via A',
      parentId: r1Id,
    });
    const viaB = await call(b, tokens.r1!, 'POST', '/customers', { name: 'Via B' });
    await until(
      () =>
        [viaA.body.id, viaB.body.id].every((id) =>
          [onA, onB].every((live) => live.applied.some((d) => d.envelope.id === id)),
        ),
      'both customers on both processes',
    );
    expect(onB.applied.find((d) => d.envelope.id === viaA.body.id)!.envelope).toMatchObject({
      type: 'customers.created',
      data: { name: 'Via A' },
      actor: { kind: 'account', name: 'Carrier' },
    });
  });

  it("both processes share their installation's Redis channels, named by its database", async () => {
    // Another installation (another database) on the same Redis uses other channels: the
    // test files that run side by side, or staging beside production, never cross-talk.
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    try {
      const mine = `${adapterKey(db.url)}-request#/#`;
      const other = `${adapterKey(db.url.replace(/\/[^/?]+(\?|$)/, '/another$1'))}-request#/#`;
      expect(mine).not.toBe(other);
      expect(await redis.pubSubNumSub([mine, other, 'socket.io-request#/#'])).toMatchObject({
        [mine]: 2,
        [other]: 0,
      });
    } finally {
      await redis.quit();
    }
  });

  it('presence lists who is on a record across processes, each named as the viewer may know them', async () => {
    const join = (url: string, who: string) =>
      new Promise<{ socket: Socket; seen: TPresence[] }>((resolve, reject) => {
        const socket = io(url, { transports: ['websocket'], auth: { token: tokens[who] } });
        const seen: TPresence[] = [];
        socket.on('presence', (p) => seen.push(p));
        socket.once('connect_error', reject);
        socket.once('hello', () =>
          socket.emit('presence:join', { topic: `resellers:${r1Id}` }, (ack: { ok: boolean }) =>
            ack.ok ? resolve({ socket, seen }) : reject(new Error(JSON.stringify(ack))),
          ),
        );
      });
    const admin = await join(a.url, 'admin');
    const ops = await join(b.url, 'ops');
    await until(() => admin.seen.at(-1)?.members.length === 2, 'admin sees two people');
    await until(() => ops.seen.at(-1)?.members.length === 2, 'ops sees two people');
    const names = (p: TPresence) =>
      p.members
        .map((m) => (m.actor.kind === 'user' ? m.actor.email : `account:${m.actor.name}`))
        .sort();
    expect(names(admin.seen.at(-1)!)).toEqual([ADMIN.email, 'ops@two.test']);
    // A reseller user may see R1's record? No: R1 is not below R1 — the join is refused.
    const r1 = io(a.url, { transports: ['websocket'], auth: { token: tokens.r1 } });
    await new Promise((resolve) => r1.once('hello', resolve));
    const refused = await new Promise<{ ok: boolean; error?: { code: string } }>((resolve) =>
      r1.emit('presence:join', { topic: `resellers:${r1Id}` }, resolve),
    );
    expect(refused).toEqual({ ok: false, error: expect.objectContaining({ code: 'not_found' }) });
    const bad = await new Promise<{ ok: boolean; error?: { code: string } }>((resolve) =>
      r1.emit('presence:join', { topic: 'resellers; drop table' }, resolve),
    );
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    // Leaving on B is seen on A.
    ops.socket.close();
    await until(() => admin.seen.at(-1)?.members.length === 1, 'admin sees one person again');
    expect(admin.seen.at(-1)!.members[0]).toMatchObject({ you: true });
    admin.socket.close();
    r1.close();
  });

  it('disabling a user through one process ends its socket on the other within a second', async () => {
    const doomed = client(b.url, 'doomed');
    await doomed.waitForHello(1);
    const started = Date.now();
    const patched = await call(a, admin(), 'PATCH', `/users/${tokens['doomed:id']}`, {
      version: 1,
      status: 'disabled',
    });
    expect(patched.status).toBe(200);
    await until(() => doomed.revoked.length === 1 && !doomed.socket.connected, 'revocation', 1_000);
    console.log(
      `cross-process revocation: socket on B closed ${Date.now() - started} ms after the PATCH to A started`,
    );
  });

  it('killing one process loses nothing: its clients reconnect to the other and catch up', async () => {
    const balancer = await startBalancer([a.port, b.port]);
    try {
      const watchers = [client(balancer.url, 'admin'), client(balancer.url, 'r1')];
      await Promise.all(watchers.map((w) => w.waitForHello(1)));
      const before = watchers.map((w) => w.feed.seq!);
      await call(a, admin(), 'POST', '/customers', {
        name: 'Before the crash',
        parentId: r1Id,
      });
      await until(() => watchers.every((w) => w.applied.length >= 1), 'first change');

      a.child.kill('SIGKILL');
      // While the clients are cut off: changes through the survivor.
      const during = [];
      for (let i = 0; i < 5; i++) {
        during.push(
          (
            await call(b, admin(), 'POST', '/customers', {
              name: `During ${i}`,
              parentId: r1Id,
            })
          ).body.id,
        );
      }
      await call(b, admin(), 'DELETE', `/customers/${during[0]}`);
      await Promise.all(watchers.map((w) => w.waitForHello(2)));
      await call(b, tokens.r1!, 'POST', '/customers', { name: 'After the crash' });

      for (const watcher of watchers) {
        const token = watcher.name === 'admin' ? admin() : tokens.r1!;
        // Everything the server would have sent since it joined, exactly once, in order:
        // every page, following `seq` until it stops moving, as the API says (a page from
        // the fan-out's memory ends where its tailer is, which may be short of the change
        // just made).
        const expected: number[] = [];
        for (let since = before[watchers.indexOf(watcher)]!; ;) {
          const page = (await call(b, token, 'GET', `/events?since=${since}`)).body;
          expected.push(...page.items.map((e: { seq: number }) => e.seq));
          if (page.seq <= since) break;
          since = page.seq;
        }
        await until(() => watcher.feed.seq! >= expected.at(-1)!, `${watcher.name} caught up`);
        expect(watcher.applied.map((d) => d.envelope.seq)).toEqual(expected);
        expect(watcher.applied.some((d) => d.source === 'catch-up')).toBe(true);
        // And what it shows equals a fresh fetch.
        expect(byId(await watcher.lists())).toEqual(byId(await freshLists(b.url, token)));
      }
    } finally {
      await balancer.close();
    }
  });
});
