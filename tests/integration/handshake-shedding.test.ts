import pg from 'pg';
import { Socket as EngineSocket } from 'engine.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveFeed } from '@/lib/client/live-feed';
import { connectPanelSocket, type TPanelClientSocket } from '@/lib/client/socket';
import type { THandshakeRefusal } from '@/lib/shared/live/events';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { until } from '../fixtures/live-client';

/**
 * Issue 14: when more socket handshakes arrive at once than LIVE_MAX_HANDSHAKES, the next
 * LIVE_HANDSHAKE_QUEUE wait their turn without touching the database, the server refuses
 * the rest at once with `unavailable` and a retry hint instead of piling them onto the
 * database until they time out, and the panel's live feed comes back by itself until
 * every client is in.
 */
const ADMIN = { email: 'admin@shedding.test', password: 'shedding-admin-password' };
const LIMIT = 2;
const QUEUE = 4;
const SOCKETS = 12;
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  LIVE_MAX_HANDSHAKES: String(LIMIT),
  LIVE_HANDSHAKE_QUEUE: String(QUEUE),
});

const opened: { socket: TPanelClientSocket; feed: LiveFeed }[] = [];
afterEach(() => {
  for (const { feed } of opened.splice(0)) feed.close();
});

describe('handshake load shedding', () => {
  it('queues the next handshakes, refuses the rest with unavailable; the feeds retry until all are in', async () => {
    const { body } = await requestToken(suite.server.url, ADMIN.email, ADMIN.password);
    // A database that cannot keep up: while this transaction holds the token table, every
    // handshake let through waits at the door's read.
    const lock = new pg.Client({ connectionString: suite.db.url });
    await lock.connect();
    await lock.query('begin');
    await lock.query('lock table api_token in access exclusive mode');
    const refusals: THandshakeRefusal[] = [];
    /** Refusals per socket, by its index. */
    const refusedTimes = new Map<number, number>();
    const hellos: number[] = [];
    try {
      for (let index = 0; index < SOCKETS; index++) {
        const socket = connectPanelSocket({
          url: suite.server.url,
          token: body.token,
          transports: ['websocket'],
        });
        socket.on('connect_error', (error) => {
          refusals.push(error.data as THandshakeRefusal);
          refusedTimes.set(index, (refusedTimes.get(index) ?? 0) + 1);
        });
        const feed = new LiveFeed(socket, {
          onChange: () => {},
          onResync: () => {},
          onHello: () => hellos.push(index),
        });
        opened.push({ socket, feed });
      }
      // Two wait at the door, four in the queue; every other one is turned away without
      // touching the database — and again when it comes back, as the queue is still full.
      const turnedAway = SOCKETS - LIMIT - QUEUE;
      await until(
        () =>
          refusedTimes.size >= turnedAway &&
          [...refusedTimes.values()].every((times) => times >= 2),
        'the handshakes past the queue refused twice',
      );
      // The queued ones were never refused: only the same six were, each time.
      expect(refusedTimes.size).toBe(turnedAway);
      expect(hellos).toEqual([]);
      for (const refusal of refusals) {
        expect(refusal).toMatchObject({ code: 'unavailable', retryAfterMs: expect.any(Number) });
        expect(refusal.retryAfterMs).toBeGreaterThan(0);
      }
    } finally {
      await lock.query('commit');
      await lock.end();
    }
    // The database answers again: the two waiting get in, the refused come back and do too.
    await until(() => opened.every(({ feed }) => feed.state === 'live'), 'every feed live', 40_000);
    expect(new Set(hellos).size).toBe(SOCKETS);
  });
});

describe('one connection', () => {
  it('sending CONNECT after CONNECT: one handshake at a time, one socket', async () => {
    const { body } = await requestToken(suite.server.url, ADMIN.email, ADMIN.password);
    const engine = new EngineSocket(suite.server.url, {
      transports: ['websocket'],
      path: '/socket.io/',
    });
    const packets: string[] = [];
    engine.on('message', (data) => packets.push(String(data)));
    await new Promise<void>((resolve, reject) => {
      engine.once('open', resolve);
      engine.once('error', reject);
    });
    try {
      // Five handshakes at once on one connection: Socket.IO's CONNECT packet (`0`), as
      // the engine's messages carry it.
      for (let n = 0; n < 5; n++) engine.send(`0${JSON.stringify({ token: body.token })}`);
      const answers = () => packets.filter((p) => p.startsWith('0') || p.startsWith('4'));
      await until(() => answers().length >= 5, 'an answer to every CONNECT');
      // One socket; the other four refused at once, before the door (no place in the gate).
      expect(answers().filter((p) => p.startsWith('0'))).toHaveLength(1);
      const refused = answers()
        .filter((p) => p.startsWith('4'))
        .map((p) => JSON.parse(p.slice(1)) as { data: THandshakeRefusal });
      expect(refused.map((r) => r.data)).toEqual(
        Array(4).fill({
          code: 'unavailable',
          message: 'One connection, one live socket at a time.',
        }),
      );
    } finally {
      engine.close();
    }
  });
});
