import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  MAX_PRESENCE_TOPICS,
  type TPresence,
  type TPresenceTopic,
} from '@/lib/shared/live/presence';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { apiClient, ok, type TApiClient } from '../fixtures/api-client';
import { connectLiveClient, until, type TLiveClient } from '../fixtures/live-client';
import { io as connectSocket } from 'socket.io-client';
import { Socket as EngineSocket } from 'engine.io-client';
import type { EventEmitter } from 'node:events';

/**
 * Presence after a record leaves a viewer's view (DESIGN §2 "Entering and leaving a
 * view", "Collaboration"): a reseller's user with a customer open, when the carrier
 * transfers that customer elsewhere, is taken out of the customer's presence — it never
 * hears who opens the customer next (that would say where it went), and the destination
 * never sees it lingering. The same for a card whose assignment is deleted.
 */
const ADMIN = { email: 'admin@presence-move.test', password: 'presence-admin-pass' };
const PASSWORD = 'presence-user-pass';
const PER_PERSON = 3;
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  LIVE_SOCKETS_PER_PERSON: String(PER_PERSON),
});

let admin: TApiClient;
let r1: TApiClient;
let r3: TApiClient;
const ids = {} as Record<'R1' | 'R3', string>;

/** A panel client (lib/client) with every presence message it receives. */
interface TWatcher {
  client: TLiveClient;
  presence: TPresence[];
}

async function watch(email: string, name: string, password = PASSWORD): Promise<TWatcher> {
  const { token } = (await requestToken(suite.server.url, email, password)).body;
  const client = connectLiveClient(suite.server.url, token, name);
  const presence: TPresence[] = [];
  client.socket.on('presence', (payload) => presence.push(payload));
  await client.waitForHello(1);
  onTestFinished(() => {
    client.socket.disconnect();
    client.close();
  });
  return { client, presence };
}

function join(watcher: TWatcher, topic: TPresenceTopic) {
  return new Promise<{ ok: boolean; error?: { code: string } }>((resolve) =>
    watcher.client.socket.emit('presence:join', { topic }, resolve),
  );
}

/** The last list a watcher was told for a topic. */
function lastOf(watcher: TWatcher, topic: TPresenceTopic) {
  return watcher.presence.filter((p) => p.topic === topic).at(-1)?.members;
}

/**
 * Everything the server had for this socket before now has arrived: it joins a page of
 * its own and waits for that list (one connection keeps its order), instead of sleeping.
 */
async function settled(watcher: TWatcher, what: string) {
  const seen = watcher.presence.length;
  expect(await join(watcher, 'page:overview')).toEqual({ ok: true });
  await until(
    () => watcher.presence.slice(seen).some((p) => p.topic === 'page:overview'),
    `${what}: the sentinel list`,
  );
  await new Promise<void>((resolve) =>
    watcher.client.socket.emit('presence:leave', { topic: 'page:overview' }, () => resolve()),
  );
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await ok(admin.post('/groups', { template: 'default-reseller' }))).id;
  ids.R1 = (await ok(admin.post('/resellers', { name: 'R1 Voice', email: 'r1@move.test' }))).id;
  ids.R3 = (await ok(admin.post('/resellers', { name: 'R3 Telecom', email: 'r3@move.test' }))).id;
  for (const [accountId, email] of [
    [ids.R1, 'ops@r1.move.test'],
    [ids.R1, 'desk@r1.move.test'],
    [ids.R3, 'ops@r3.move.test'],
  ] as const) {
    await ok(admin.post('/users', { email, password: PASSWORD, accountId, groupId: group }));
  }
  r1 = await apiClient(suite.server.url, 'ops@r1.move.test', PASSWORD);
  r3 = await apiClient(suite.server.url, 'ops@r3.move.test', PASSWORD);
});

describe('presence when a record leaves a view', () => {
  it('a customer transferred away: its old reseller leaves its presence and never hears who opens it next', async () => {
    const customer = await ok(r1.post('/customers', { name: 'Moving Customer', creditLimit: '0' }));
    const currency = (await ok(admin.get(`/resellers/${ids.R3}`), 200)).currency;
    const card = await ok(r3.post('/cards', { name: 'R3 Retail', currency, kind: 'customer' }));
    const topic: TPresenceTopic = `customers:${customer.id}`;

    const carrier = await watch(ADMIN.email, 'carrier', ADMIN.password);
    const old = await watch('ops@r1.move.test', 'r1');
    const next = await watch('ops@r3.move.test', 'r3');
    expect(await join(carrier, topic)).toEqual({ ok: true });
    expect(await join(old, topic)).toEqual({ ok: true });
    await until(() => lastOf(carrier, topic)?.length === 2, 'the carrier to see R1 there');

    await ok(
      admin.post(`/customers/${customer.id}/transfer`, { toParentId: ids.R3, cardId: card.id }),
      200,
    );
    await until(
      () => old.client.raw.some((e) => e.type === 'customers.removed' && e.id === customer.id),
      'R1 to be told the customer left',
    );
    const heardBefore = old.presence.length;

    expect(await join(next, topic)).toEqual({ ok: true });
    await until(() => lastOf(next, topic) !== undefined, 'R3 to get its list');
    await until(
      () => JSON.stringify(lastOf(carrier, topic)).includes('ops@r3.move.test'),
      'the carrier to see R3 arrive',
    );
    await settled(old, 'R1');

    // R1 hears nothing more about the customer: not who opened it, not where it went.
    const heard = old.presence.slice(heardBefore);
    expect(heard.filter((p) => p.topic === topic)).toEqual([]);
    expect(JSON.stringify(heard)).not.toContain('R3 Telecom');
    expect(JSON.stringify(heard)).not.toContain('r3.move.test');
    // R3 sees the carrier and itself, never R1's user lingering.
    expect(lastOf(next, topic)).toHaveLength(2);
    expect(JSON.stringify(next.presence)).not.toContain('R1 Voice');
    expect(JSON.stringify(next.presence)).not.toContain('r1.move.test');
    // Those who still see the customer were told R1's user left, and see R3 without it.
    const carrierLists = carrier.presence.filter((p) => p.topic === topic).map((p) => p.members);
    const lastWithR1 = carrierLists.findLastIndex((m) => JSON.stringify(m).includes('r1.move'));
    // (R1's leaving and R3's arrival may come as one list: a room's lists are spaced.)
    const after = carrierLists.slice(lastWithR1 + 1);
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]).toContainEqual(expect.objectContaining({ you: true }));
    expect(carrierLists.at(-1)).toHaveLength(2);
  });

  it('a record named in capitals is the same room: seen by the others, and left on transfer', async () => {
    const customer = await ok(r1.post('/customers', { name: 'Shouted', creditLimit: '0' }));
    const currency = (await ok(admin.get(`/resellers/${ids.R3}`), 200)).currency;
    const card = await ok(r3.post('/cards', { name: 'R3 Loud', currency, kind: 'customer' }));
    const topic: TPresenceTopic = `customers:${customer.id}`;
    const carrier = await watch(ADMIN.email, 'carrier', ADMIN.password);
    const old = await watch('ops@r1.move.test', 'r1');
    expect(await join(carrier, topic)).toEqual({ ok: true });
    expect(
      await join(old, `customers:${(customer.id as string).toUpperCase()}` as TPresenceTopic),
    ).toEqual({ ok: true });
    await until(
      () => JSON.stringify(lastOf(carrier, topic)).includes('ops@r1.move.test'),
      'the carrier to see R1 there',
    );
    await ok(
      admin.post(`/customers/${customer.id}/transfer`, { toParentId: ids.R3, cardId: card.id }),
      200,
    );
    await until(
      () => lastOf(carrier, topic)?.length === 1,
      'the carrier to see R1 leave on the transfer',
    );
  });

  it('a card unassigned: its holder leaves the card presence, and a later holder session starts alone', async () => {
    const currency = (await ok(admin.get(`/resellers/${ids.R1}`), 200)).currency;
    const card = await ok(admin.post('/cards', { name: 'Wholesale', currency, kind: 'customer' }));
    const topic: TPresenceTopic = `cards:${card.id}`;
    const assign = async () =>
      (await ok(admin.post('/assignments', { cardId: card.id, accountId: ids.R1 }))).id as string;

    const first = await watch('ops@r1.move.test', 'r1');
    const second = await watch('desk@r1.move.test', 'r1 desk');
    const assignment = await assign();
    expect(await join(first, topic)).toEqual({ ok: true });
    await until(() => lastOf(first, topic)?.length === 1, 'R1 to be in the card presence');

    await ok(admin.del(`/assignments/${assignment}`), 204);
    await until(
      () => first.client.raw.some((e) => e.type === 'cards.removed' && e.id === card.id),
      'R1 to be told the card left',
    );
    // Assigned again: the first user has not opened it since, so it is not there.
    await assign();
    expect(await join(second, topic)).toEqual({ ok: true });
    await until(() => lastOf(second, topic) !== undefined, 'the second user to get its list');
    await settled(second, 'R1 desk');
    expect(lastOf(second, topic)).toEqual([
      expect.objectContaining({ you: true, actor: expect.objectContaining({ kind: 'user' }) }),
    ]);
  });
});

describe('a tab’s presence topics', () => {
  it('are at most MAX_PRESENCE_TOPICS, however many joins arrive at once', async () => {
    const customers = await Promise.all(
      Array.from({ length: MAX_PRESENCE_TOPICS + 4 }, async (_, n) =>
        ok(admin.post('/customers', { name: `Watched ${n}`, parentId: ids.R1 })),
      ),
    );
    const watcher = await watch(ADMIN.email, 'many-topics', ADMIN.password);
    // Every join sent before any is answered.
    const answers = await Promise.all(
      customers.map((customer) => join(watcher, `customers:${customer.id}` as TPresenceTopic)),
    );
    expect(answers.filter((answer) => answer.ok)).toHaveLength(MAX_PRESENCE_TOPICS);
    expect(answers.filter((answer) => !answer.ok)).toEqual(
      Array(4).fill(
        expect.objectContaining({ error: expect.objectContaining({ code: 'too_many_topics' }) }),
      ),
    );
  });
});

describe('a record whose presence toggles fast', () => {
  it('tells the room at most one list per spell of changes, the last one always', async () => {
    const customer = await ok(r1.post('/customers', { name: 'Busy Record', creditLimit: '0' }));
    const topic: TPresenceTopic = `customers:${customer.id}`;
    const carrier = await watch(ADMIN.email, 'carrier', ADMIN.password);
    const desk = await watch('desk@r1.move.test', 'r1-desk');
    expect(await join(carrier, topic)).toEqual({ ok: true });
    await until(() => lastOf(carrier, topic)?.length === 1, 'the carrier’s own list');
    const heard = carrier.presence.length;
    // One person's socket in and out forty times, as fast as its acks come: every join
    // and leave sent the carrier a list.
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      expect(await join(desk, topic)).toEqual({ ok: true });
      await new Promise<void>((resolve) =>
        desk.client.socket.emit('presence:leave', { topic }, () => resolve()),
      );
    }
    const spells = Math.ceil((performance.now() - started) / 250) + 1;
    // Then the room goes quiet: its last list says the desk has gone.
    await until(
      () => carrier.presence.length > heard && lastOf(carrier, topic)?.length === 1,
      'the carrier to be told the desk left',
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    const lists = carrier.presence.slice(heard).filter((p) => p.topic === topic);
    // At most a list at the start and one at the end of each spacing window.
    expect(lists.length).toBeLessThanOrEqual(2 * spells);
    expect(lists.at(-1)!.members).toEqual([expect.objectContaining({ you: true })]);
  });
});

describe('one person’s live sockets', () => {
  it('are held to LIVE_SOCKETS_PER_PERSON: the next is refused until one closes', async () => {
    const { token } = (await requestToken(suite.server.url, 'desk@r1.move.test', PASSWORD)).body;
    const open = (auth: string) =>
      new Promise<{ socket: ReturnType<typeof connectSocket>; refused?: unknown }>((resolve) => {
        const socket = connectSocket(suite.server.url, {
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
          auth: { token: auth },
        });
        socket.once('hello', () => resolve({ socket }));
        socket.once('connect_error', (error) =>
          resolve({ socket, refused: (error as Error & { data?: unknown }).data }),
        );
      });
    const held: Awaited<ReturnType<typeof open>>[] = [];
    for (let i = 0; i < PER_PERSON; i++) held.push(await open(token));
    onTestFinished(() => held.forEach(({ socket }) => socket.close()));
    expect(held.map(({ refused }) => refused)).toEqual(Array(PER_PERSON).fill(undefined));
    // One more, with a new token of the same person: the person is counted, not the token.
    const again = (await requestToken(suite.server.url, 'desk@r1.move.test', PASSWORD)).body.token;
    const extra = await open(again);
    extra.socket.close();
    expect(extra.refused).toMatchObject({ code: 'unavailable', retryAfterMs: 30_000 });
    // Someone else is not held to it.
    const other = (await requestToken(suite.server.url, 'ops@r1.move.test', PASSWORD)).body.token;
    const theirs = await open(other);
    theirs.socket.close();
    expect(theirs.refused).toBeUndefined();
    // One closed, one place.
    held.pop()!.socket.close();
    let next = await open(token);
    for (let tries = 0; next.refused && tries < 50; tries++) {
      next.socket.close();
      await new Promise((resolve) => setTimeout(resolve, 20));
      next = await open(token);
    }
    held.push(next);
    expect(next.refused).toBeUndefined();
  });

  it('are given back when a connection closes during its check: no place is lost', async () => {
    // A client that sends CONNECT and goes at once (a tab closed, a network dropped): its
    // socket is let in by the check but never connected, so it never disconnects either.
    const { token } = (await requestToken(suite.server.url, 'ops@r3.move.test', PASSWORD)).body;
    for (let i = 0; i < PER_PERSON + 2; i++) {
      const engine = new EngineSocket(suite.server.url, {
        transports: ['websocket'],
        path: '/socket.io/',
      });
      await new Promise<void>((resolve, reject) => {
        engine.once('open', resolve);
        engine.once('error', reject);
      });
      engine.send(`0${JSON.stringify({ token })}`);
      engine.close();
    }
    // The server has seen every close once a socket of the person gets in again.
    let admitted = false;
    for (let tries = 0; !admitted && tries < 100; tries++) {
      const socket = connectSocket(suite.server.url, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        auth: { token },
      });
      admitted = await new Promise<boolean>((resolve) => {
        socket.once('hello', () => resolve(true));
        socket.once('connect_error', () => resolve(false));
      });
      socket.close();
      if (!admitted) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(admitted).toBe(true);
  });

  it('leave nothing behind on a connection that connects and leaves again and again', async () => {
    // Each admission listened for its connection's close, and the listener (and the
    // socket it held) stayed until the connection closed: one person, one connection,
    // the server's memory growing by each cycle.
    const { token } = (await requestToken(suite.server.url, 'ops@r3.move.test', PASSWORD)).body;
    const engine = new EngineSocket(suite.server.url, {
      transports: ['websocket'],
      path: '/socket.io/',
    });
    onTestFinished(() => {
      engine.close();
    });
    const frames: string[] = [];
    engine.on('message', (data) => frames.push(String(data)));
    await new Promise<void>((resolve) => engine.once('open', () => resolve()));
    const io = (suite.server as unknown as { io: { engine: { clients: Map<string, unknown> } } })
      .io;
    const listeners = () =>
      Math.max(
        ...Object.values(io.engine.clients as unknown as Record<string, EventEmitter>).map((conn) =>
          conn.listenerCount('close'),
        ),
      );
    const cycle = async () => {
      for (let tries = 0; ; tries++) {
        const seen = frames.length;
        engine.send(`0${JSON.stringify({ token })}`);
        // A CONNECT before the server has handled the last DISCONNECT is refused: again.
        await until(
          () => frames.slice(seen).some((f) => f.startsWith('2["hello"') || f.startsWith('4')),
          'its hello',
        );
        if (frames.slice(seen).some((f) => f.startsWith('2["hello"'))) break;
        expect(tries).toBeLessThan(50);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      engine.send('1');
      // A CONNECT the server reads before this DISCONNECT is ignored, not refused: let it
      // be read first.
      await new Promise((resolve) => setTimeout(resolve, 30));
    };
    await cycle();
    await until(() => listeners() > 0, 'the connection listened to');
    const first = listeners();
    for (let i = 0; i < 20; i++) await cycle();
    await cycle();
    expect(listeners()).toBeLessThanOrEqual(first);
  });
});
