import type { Socket as TcpSocket } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { TPanel } from '@/server/app';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import { apiClient } from '../fixtures/api-client';
import { until } from '../fixtures/live-client';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';

/**
 * The fan-out delivers a pass's entries in one synchronous loop, so a socket in the
 * audience of several of them has its later packets queued behind the first; those are
 * written to the TCP socket whole, in one system call (server/ws-flush.ts), not one
 * call per packet. Counted on the panel's own server-side socket of a real client, on
 * WebSocket from the start and on the browser's way (long polling, then the upgrade).
 */
const ADMIN = { email: 'admin@flush.test', password: 'flush-admin-password' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

/** The in-process panel (usePanelSuite without `spawned`). */
const panel = () => suite.server as unknown as TPanel;

type TCountedTcp = TcpSocket & {
  _write: (...args: unknown[]) => void;
  _writev: (...args: unknown[]) => void;
};

/** Every write the server's TCP socket of the one connected client hands the kernel. */
function countServerWrites(): { writes: number } {
  const sockets = [...panel().io.of('/').sockets.values()];
  expect(sockets).toHaveLength(1);
  const conn = sockets[0]!.conn as unknown as {
    transport: { name: string; socket: { _socket: TCountedTcp } };
  };
  expect(conn.transport.name).toBe('websocket');
  const tcp = conn.transport.socket._socket;
  const counter = { writes: 0 };
  for (const method of ['_write', '_writev'] as const) {
    const original = tcp[method];
    tcp[method] = function (this: TcpSocket, ...args: unknown[]) {
      counter.writes++;
      return original.apply(this, args);
    };
  }
  return counter;
}

async function connectAdmin(transports: ('polling' | 'websocket')[]) {
  const token = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body.token;
  const socket: Socket = io(suite.server.url, { auth: { token }, transports, reconnection: false });
  const received: TChangeEnvelope[] = [];
  socket.on('change', (envelope: TChangeEnvelope) => received.push(envelope));
  let hello = false;
  socket.on('hello', () => void (hello = true));
  await until(() => hello, 'hello');
  // The client moves to WebSocket before its upgrade packet reaches the server: wait
  // for the server's side of the connection too.
  await until(
    () =>
      socket.io.engine.transport.name === 'websocket' &&
      [...panel().io.of('/').sockets.values()].some(
        (server) =>
          (server.conn as unknown as { transport: { name: string } }).transport.name ===
          'websocket',
      ),
    'the upgrade, on both sides',
  );
  return { socket, received };
}

describe('a fan-out pass writes a socket’s frames together', () => {
  for (const transports of [['websocket'], ['polling', 'websocket']] as const) {
    it(`ten changes of one commit reach an admin socket in order, in two writes (${transports.join(', then ')})`, async () => {
      const admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await admin.post('/customers', { name: `Flushed ${transports[0]} ${i}` });
        expect(created.status).toBe(201);
        ids.push(created.body.id);
      }
      const { socket, received } = await connectAdmin([...transports]);
      try {
        const counter = countServerWrites();
        // One transaction, ten log entries: the tailer reads and delivers them in one pass.
        const suspended = await admin.post('/customers/bulk', { ids, status: 'suspended' });
        expect(suspended.status).toBe(200);
        const ours = () => received.filter((event) => ids.includes(event.id));
        await until(() => ours().length === ids.length, 'the ten changes');

        const seqs = ours().map((event) => event.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(ours().map((event) => event.id))).toEqual(new Set(ids));
        expect(
          ours().map((event) => [event.type, (event.data as { status: string }).status]),
        ).toEqual(ids.map(() => ['customers.updated', 'suspended']));
        // The first packet goes at once; the nine queued behind it go in one write.
        expect(counter.writes).toBe(2);
      } finally {
        socket.close();
        await until(() => panel().io.of('/').sockets.size === 0, 'the close');
      }
    });
  }
});
