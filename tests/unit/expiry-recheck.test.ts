import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { scheduleExpiry } from '@/server/revocation';
import type { TPanelSocket } from '@/server/socket';

/**
 * A socket's expiry re-check (server/revocation.ts) with the database failing: it is
 * tried again rather than dropped, and re-arming never adds listeners.
 */
const USER = '00000000-0000-4000-8000-000000000001';
const SESSION = '00000000-0000-4000-8000-000000000002';

function fakeSocket(expiresInMs: number) {
  const socket = Object.assign(new EventEmitter(), {
    id: 'socket-1',
    connected: true,
    disconnected: false,
    data: {
      real: {
        ref: { kind: 'session', userId: USER, sessionVersion: 1, sessionId: SESSION },
        expiresAt: new Date(Date.now() + expiresInMs),
      },
      actor: { impersonation: null },
    },
  });
  return socket;
}

/** A database that refuses every query, counting them. */
function failingOrm() {
  const queries = { count: 0 };
  // What lib/server/db/direct-query.ts asks of an EntityManager: a pool connection.
  const connection = {
    query: async () => {
      queries.count++;
      throw new Error('connection terminated');
    },
  };
  const em = {
    getTransactionContext: () => undefined,
    getConnection: () => ({
      getKnex: () => ({
        client: { acquireConnection: async () => connection, releaseConnection: async () => {} },
      }),
    }),
    getDriver: () => ({ convertException: (error: Error) => error }),
  };
  const orm = { em: { fork: () => em } } as unknown as MikroORM;
  return { orm, queries };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('the expiry re-check', () => {
  it('tries again, with growing waits, when the database fails', async () => {
    const socket = fakeSocket(1_000);
    const { orm, queries } = failingOrm();
    scheduleExpiry(orm, socket as unknown as TPanelSocket);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(queries.count).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(queries.count).toBe(2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(queries.count).toBe(3);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(queries.count).toBe(4);
  });

  it('keeps one disconnect listener however often it is re-armed, and stops on disconnect', async () => {
    const socket = fakeSocket(60_000);
    const { orm, queries } = failingOrm();
    for (let i = 0; i < 5; i++) scheduleExpiry(orm, socket as unknown as TPanelSocket);
    expect(socket.listenerCount('disconnect')).toBe(1);
    socket.connected = false;
    socket.disconnected = true;
    socket.emit('disconnect');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(queries.count).toBe(0);
  });
});
