import { describe, expect, it } from 'vitest';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { apiClient } from '../fixtures/api-client';
import { connectLiveClient, until } from '../fixtures/live-client';
import { io } from 'socket.io-client';
import { getRuntime } from '@/lib/server/runtime';
import { getMetrics } from '@/lib/server/observability/metrics';
import type { TEventsAck, THello } from '@/lib/shared/live/events';

/**
 * With no socket connected the fan-out reads nothing: its own commits tell it how far
 * each carrier's log goes, and it moves there (server/fan-out.ts). A socket that comes
 * afterwards must start at the newest position and get the next change at the next
 * one — nothing older replayed, nothing skipped. For two minutes after a socket goes,
 * though, it goes on reading, so that socket's catch-up comes from memory.
 */
const ADMIN = { email: 'admin@idle.test', password: 'idle-admin-password' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

async function head(): Promise<number> {
  const rows = await suite.orm.em
    .fork()
    .execute<{ seq: string | null }[]>('select max(carrier_seq) as seq from change_log');
  return Number(rows[0]?.seq ?? 0);
}

describe('the fan-out with nobody listening', () => {
  it('a socket connecting after commits nobody received starts at the newest position', async () => {
    const admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
    for (let i = 0; i < 3; i++) {
      expect((await admin.post('/customers', { name: `Unwatched ${i}` })).status).toBe(201);
    }
    const token = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body.token;
    const newest = await head();
    const live = connectLiveClient(suite.server.url, token, 'late');
    try {
      await live.waitForHello(1);
      expect(live.hellos[0]!.seq).toBe(newest);
      const created = await admin.post('/customers', { name: 'Watched' });
      await until(
        () => live.raw.some((event) => event.id === created.body.id),
        'the change made while watched',
      );
      expect(live.raw.map((event) => [event.seq, event.id])).toEqual([
        [newest + 1, created.body.id],
      ]);
    } finally {
      live.close();
    }
  });

  it('goes on reading after a socket leaves, and its catch-up comes from what it read', async () => {
    const admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
    const carrierId = (await admin.get('/me')).body.account.id;
    const connect = async () => {
      const socket = io(suite.server.url, {
        transports: ['websocket'],
        reconnection: false,
        extraHeaders: { cookie: admin.cookie },
      });
      const hello = await new Promise<THello>((resolve, reject) => {
        socket.once('hello', resolve);
        socket.once('connect_error', reject);
      });
      return { socket, hello };
    };
    const first = await connect();
    first.socket.disconnect();
    // Gone on the server's side too, before anything is written.
    await until(() => getMetrics().sources.sockets?.() === 0, 'the socket to go');
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      created.push((await admin.post('/customers', { name: `Missed ${i}` })).body.id);
    }
    const since = first.hello.seq;
    // Nobody is connected, yet the fan-out reads the three and keeps them.
    await until(
      () => getRuntime().recent!.after(carrierId, since, since + 3, 10)?.length === 3,
      'the fan-out to read what nobody is there to receive',
    );
    const fromMemory = async () =>
      (await getMetrics().liveCatchUpPages.get()).values.find(
        (value) => value.labels.source === 'memory',
      )?.value ?? 0;
    const pagesBefore = await fromMemory();
    const back = await connect();
    try {
      const ack = (await back.socket
        .timeout(5_000)
        .emitWithAck('events:since', { since, limit: 100 })) as TEventsAck;
      expect(ack.ok && ack.page.items.map((item) => [item.type, item.id])).toEqual(
        created.map((id) => ['customers.created', id]),
      );
      expect(ack.ok && ack.page.seq).toBe(since + 3);
      // Answered from what the fan-out kept, not read from the log.
      expect(await fromMemory()).toBe(pagesBefore + 1);
    } finally {
      back.socket.disconnect();
    }
  });
});
