import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import { withinKey } from '@/lib/shared/live/within';
import type { THello } from '@/lib/shared/live/events';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import {
  byId,
  connectLiveClient,
  freshLists,
  until,
  type TLiveClient,
} from '../fixtures/live-client';

/**
 * Balances at call rate (issue 18 "Live, at call rate"): an account's balance-only
 * changes reach a socket at most once a second, the latest one; a credit block or
 * unblock, a rename, anything more is never held and supersedes what is held; catch-up
 * stays exact, and a client that drops its connection while a change is held catches
 * it up. Real sockets on a real port; balances move by payments.
 */
const ADMIN = { email: 'admin@coalesce.test', password: 'coalesce-admin-pass' };
const PASSWORD = 'coalesce-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

interface TListener {
  name: string;
  socket: Socket;
  received: { envelope: TChangeEnvelope; at: number }[];
}

let admin: TApiClient;
const listeners: TListener[] = [];
const live: TLiveClient[] = [];
const ids = {} as Record<'R' | 'K1' | 'K2' | 'K3' | 'K4' | 'K5' | 'K6' | 'S', string>;
let payments = 0;
/** The live clients' tokens, by index. */
const tokens: string[] = [];

async function listen(name: string, cookie: string): Promise<TListener> {
  const socket = io(suite.server.url, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: { cookie },
  });
  const listener: TListener = { name, socket, received: [] };
  socket.on('change', (envelope: TChangeEnvelope) =>
    listener.received.push({ envelope, at: Date.now() }),
  );
  await new Promise<THello>((resolve, reject) => {
    socket.once('hello', resolve);
    socket.once('connect_error', reject);
  });
  return listener;
}

async function pay(accountId: string, amount = '1.25') {
  const paid = await admin.post(`/accounts/${accountId}/payments`, {
    amount,
    idempotencyKey: `coalesce-${++payments}`,
  });
  expect(paid.status).toBe(201);
  return paid.body.balance as { balance: string; version: number; creditBlocked: boolean };
}

async function rename(kind: 'customers', id: string, name: string) {
  const current = (await admin.get(`/${kind}/${id}`)).body;
  const renamed = await admin.patch(`/${kind}/${id}`, { version: current.version, name });
  expect(renamed.status).toBe(200);
  return renamed.body as { version: number };
}

const eventsOf = (listener: TListener, id: string) =>
  listener.received.filter((r) => r.envelope.type === 'customers.updated' && r.envelope.id === id);

/** Until every listener has the account at this version (or later). */
async function reached(id: string, version: number) {
  for (const listener of listeners) {
    await until(
      () => eventsOf(listener, id).some((r) => Number(r.envelope.data.version) >= version),
      `${listener.name} to receive ${id} v${version}`,
    );
  }
}

/** Index of the first event matching in what a listener received. */
const indexOf = (listener: TListener, id: string, version: number) =>
  listener.received.findIndex((r) => r.envelope.id === id && r.envelope.data.version === version);

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  ids.R = (await admin.post('/resellers', { name: 'R', email: 'r@coalesce.test' })).body.id;
  for (const name of ['K1', 'K2', 'K3', 'K4', 'K5', 'K6', 'S'] as const) {
    ids[name] = (await admin.post('/customers', { name, parentId: ids.R })).body.id;
  }
  const made = await admin.post('/users', {
    email: 'ops@r.coalesce.test',
    password: PASSWORD,
    accountId: ids.R,
    groupId: group,
  });
  expect(made.status).toBe(201);
  const reseller = await apiClient(suite.server.url, 'ops@r.coalesce.test', PASSWORD);
  listeners.push(await listen('admin', admin.cookie), await listen('reseller', reseller.cookie));
  // Two of each, so "to any socket" is shown per socket, not per user.
  listeners.push(await listen('admin 2', admin.cookie));
  for (const [name, email, password] of [
    ['admin live', ADMIN.email, ADMIN.password],
    ['reseller live', 'ops@r.coalesce.test', PASSWORD],
  ] as const) {
    const token = (await requestToken(suite.server.url, email, password)).body.token;
    tokens.push(token);
    const client = connectLiveClient(suite.server.url, token, name);
    await client.waitForHello(1);
    live.push(client);
  }
});

afterAll(() => {
  for (const listener of listeners) listener.socket.disconnect();
  for (const client of live) client.close();
});

/** Each live client's lists equal a fresh fetch (the live-sync invariant). */
async function liveEqualsFresh() {
  for (const [index, client] of live.entries()) {
    const token = tokens[index]!;
    expect(byId(await client.lists()), client.name).toEqual(
      byId(await freshLists(suite.server.url, token)),
    );
  }
}

describe('coalesced balance events', () => {
  it('twenty payments reach each socket at most once a second per account, the last exact', async () => {
    const started = Date.now();
    // All at once: they queue on each account's row lock, as a batch's postings would.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => [pay(ids.K1), pay(ids.K2)]).flat(),
    );
    const newest = (id: string) =>
      answers
        .filter((_, index) => (index % 2 === 0) === (id === ids.K1))
        .reduce((top, answer) => (answer.version > top.version ? answer : top));
    const last = { K1: newest(ids.K1), K2: newest(ids.K2) };
    const span = Date.now() - started;
    for (const id of [ids.K1, ids.K2]) {
      const final = id === ids.K1 ? last.K1! : last.K2!;
      await reached(id, final.version);
      for (const listener of listeners) {
        const events = eventsOf(listener, id);
        if (listener.name === 'admin')
          console.log(`${events.length} events for 20 moves in ${span} ms`);
        // At most one per second: the first at once, the latest when its second is up.
        expect(
          events.length,
          `${listener.name}: ${events.length} in ${span} ms`,
        ).toBeLessThanOrEqual(1 + Math.ceil(span / 1000));
        expect(events.length).toBeLessThan(20);
        const shown = events.at(-1)!.envelope;
        expect(shown.data.version).toBe(final.version);
        expect(shown.data.balance).toBe(final.balance);
        expect(shown.data.balance).toBe('25.000000');
        // Never an older version after a newer one.
        const versions = events.map((r) => Number(r.envelope.data.version));
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
      }
    }
    // The browser's own feed and cache, fed by the same sockets, show exactly the state.
    for (const client of live) {
      await until(
        () =>
          client.applied.some(
            (d) => d.envelope.id === ids.K1 && d.envelope.data.version === last.K1!.version,
          ),
        `${client.name} to apply K1's latest`,
      );
    }
    await liveEqualsFresh();
  });

  it('keeps catch-up exact: every movement is in GET /events', async () => {
    const before = listeners[0]!.received.at(-1)!.envelope.seq;
    const first = await pay(ids.K5);
    const second = await pay(ids.K5);
    const third = await pay(ids.K5);
    const page = await admin.get(`/events?since=${before - 1}`);
    expect(page.status).toBe(200);
    const versions = (page.body.items as TChangeEnvelope[])
      .filter((e) => e.id === ids.K5)
      .map((e) => e.data.version);
    expect(versions).toEqual([first.version, second.version, third.version]);
    expect((page.body.items as TChangeEnvelope[]).some((e) => e.coalesced)).toBe(false);
    await reached(ids.K5, third.version);
  });

  it('delivers a credit block flip at once, where a plain balance move is held', async () => {
    // A limit of 0 on a zero balance blocks K3: that event goes out now and starts K3's second.
    const current = (await admin.get(`/customers/${ids.K3}`)).body;
    const blocked = await admin.patch(`/customers/${ids.K3}`, {
      version: current.version,
      creditLimit: '0',
    });
    expect(blocked.body.creditBlock).toBe('own');
    // Within that second a payment unblocks it: a flip, never held.
    const unblocked = await pay(ids.K3, '1');
    expect(unblocked.creditBlocked).toBe(false);
    const marker = await rename('customers', ids.S, 'S after the flip');
    // Then a plain move, within the second: held, so it comes after the next marker.
    const plain = await pay(ids.K3, '1');
    const marker2 = await rename('customers', ids.S, 'S after the plain move');
    await reached(ids.K3, plain.version);
    for (const listener of listeners) {
      const flip = indexOf(listener, ids.K3, unblocked.version);
      expect(flip, listener.name).toBeGreaterThanOrEqual(0);
      expect(listener.received[flip]!.envelope.data.creditBlock).toBeNull();
      expect(listener.received[flip]!.envelope.coalesced).toBeUndefined();
      expect(flip).toBeLessThan(indexOf(listener, ids.S, marker.version));
      const held = indexOf(listener, ids.K3, plain.version);
      expect(held).toBeGreaterThan(indexOf(listener, ids.S, marker2.version));
      expect(listener.received[held]!.envelope.coalesced).toBe(true);
    }
  });

  it('never rolls a rename back: it supersedes the balance move held before it', async () => {
    await pay(ids.K4); // out at once: K4's second starts
    const held = await pay(ids.K4); // held
    const renamed = await rename('customers', ids.K4, 'K4 renamed');
    expect(renamed.version).toBe(held.version + 1);
    // K6's move is held until after K4's second would have ended: once it arrives, a
    // held K4 event would have gone out before it.
    await pay(ids.K6);
    const k6 = await pay(ids.K6);
    await reached(ids.K6, k6.version);
    for (const listener of listeners) {
      const events = eventsOf(listener, ids.K4);
      const versions = events.map((r) => Number(r.envelope.data.version));
      expect(versions, listener.name).toEqual([...versions].sort((a, b) => a - b));
      expect(events.at(-1)!.envelope.data).toMatchObject({
        name: 'K4 renamed',
        version: renamed.version,
      });
      expect(versions).not.toContain(held.version);
    }
    for (const client of live) {
      await until(
        () =>
          client.applied.some(
            (d) => d.envelope.id === ids.K6 && d.envelope.data.version === k6.version,
          ),
        `${client.name} to apply K6's latest`,
      );
    }
    await liveEqualsFresh();
  });

  it('a payment that replaces held calls tells of them, still once a second', async () => {
    // K5 has no card: its calls are stored unrated, moving nothing — only its own entry
    // says they came, which is what the traffic views over R and the carrier follow.
    const before = new Map(listeners.map((l) => [l, l.received.length]));
    await pay(ids.K5); // out at once: K5's second starts
    const posted = await admin.post('/usage', {
      records: [
        {
          id: `coalesce-calls-${Date.now()}`,
          accountId: ids.K5,
          number: '447700900123',
          startedAt: new Date(Date.now() - 60_000).toISOString(),
          seconds: 30,
        },
      ],
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(200);
    expect(posted.body.unrated).toBe(1);
    const paid = await pay(ids.K5); // replaces the held calls within the same second
    await reached(ids.K5, paid.version);
    const me = (await admin.get('/me')).body.account.id as string;
    const expected = { admin: [me, ids.R], reseller: [ids.R] } as Record<string, string[]>;
    for (const listener of listeners) {
      const events = eventsOf(
        { ...listener, received: listener.received.slice(before.get(listener)) },
        ids.K5,
      );
      // The first payment, then one event for the calls and the payment together.
      expect(events, listener.name).toHaveLength(2);
      const last = events.at(-1)!;
      expect(last.envelope.data.version).toBe(paid.version);
      expect(last.envelope.coalesced).toBe(true);
      expect(last.envelope.within, listener.name).toEqual(
        expected[listener.name.replace(/ 2$/, '')]!.map(withinKey),
      );
      expect(last.at - events[0]!.at).toBeGreaterThanOrEqual(900);
    }
  });

  it('a client that drops while a move is held catches it up when it comes back', async () => {
    const client = live[1]!;
    await pay(ids.K5); // out at once
    const held = await pay(ids.K5); // held
    const marker = await rename('customers', ids.S, 'S while K5 is held');
    await until(
      () =>
        client.applied.some(
          (d) => d.envelope.id === ids.S && d.envelope.data.version === marker.version,
        ),
      'the reseller client to get the marker',
    );
    // It told the client where to resume: before K5's held move.
    const told = client.raw.find((e) => e.id === ids.S && e.data.version === marker.version)!;
    expect(told.resumeAfter).toBeLessThan(told.seq);
    client.socket.disconnect();
    // K5's held move goes out to the others while this client is away.
    await reached(ids.K5, held.version);
    const hellos = client.hellos.length;
    client.socket.connect();
    await client.waitForHello(hellos + 1);
    await until(
      () =>
        client.applied.some(
          (d) => d.envelope.id === ids.K5 && d.envelope.data.version === held.version,
        ),
      'the reseller client to catch up K5',
    );
    await liveEqualsFresh();
  });
});
