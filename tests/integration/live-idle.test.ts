import { describe, expect, it } from 'vitest';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { apiClient } from '../fixtures/api-client';
import { connectLiveClient, until } from '../fixtures/live-client';

/**
 * With no socket connected the fan-out reads nothing: its own commits tell it how far
 * each carrier's log goes, and it moves there (server/fan-out.ts). A socket that comes
 * afterwards must start at the newest position and get the next change at the next
 * one — nothing older replayed, nothing skipped.
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
});
