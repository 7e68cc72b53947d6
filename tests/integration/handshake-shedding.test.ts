import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveFeed } from '@/lib/client/live-feed';
import { connectPanelSocket, type TPanelClientSocket } from '@/lib/client/socket';
import type { THandshakeRefusal } from '@/lib/shared/live/events';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { until } from '../fixtures/live-client';

/**
 * Issue 14: when more socket handshakes arrive at once than LIVE_MAX_HANDSHAKES, the
 * server refuses the excess at once with `unavailable` and a retry hint instead of
 * queueing them on the database until they time out, and the panel's live feed comes
 * back by itself until every client is in.
 */
const ADMIN = { email: 'admin@shedding.test', password: 'shedding-admin-password' };
const LIMIT = 2;
const SOCKETS = 12;
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  LIVE_MAX_HANDSHAKES: String(LIMIT),
});

const opened: { socket: TPanelClientSocket; feed: LiveFeed }[] = [];
afterEach(() => {
  for (const { feed } of opened.splice(0)) feed.close();
});

describe('handshake load shedding', () => {
  it('refuses the handshakes over the limit with unavailable; the feeds retry until all are in', async () => {
    const { body } = await requestToken(suite.server.url, ADMIN.email, ADMIN.password);
    // A database that cannot keep up: while this transaction holds the token table, every
    // handshake let through waits at the door's read.
    const lock = new pg.Client({ connectionString: suite.db.url });
    await lock.connect();
    await lock.query('begin');
    await lock.query('lock table api_token in access exclusive mode');
    const refusals: THandshakeRefusal[] = [];
    const hellos: number[] = [];
    try {
      for (let index = 0; index < SOCKETS; index++) {
        const socket = connectPanelSocket({
          url: suite.server.url,
          token: body.token,
          transports: ['websocket'],
        });
        socket.on('connect_error', (error) => refusals.push(error.data as THandshakeRefusal));
        const feed = new LiveFeed(socket, {
          onChange: () => {},
          onResync: () => {},
          onHello: () => hellos.push(index),
        });
        opened.push({ socket, feed });
      }
      // Two wait at the door; every other one is turned away without touching the database.
      await until(() => refusals.length >= SOCKETS - LIMIT, 'the handshakes over the limit');
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
