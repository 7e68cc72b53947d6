import { describe, expect, it } from 'vitest';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { apiClient } from '../fixtures/api-client';
import { connectLiveClient, until } from '../fixtures/live-client';
import { getRuntime } from '@/lib/server/runtime';
import { getMetrics } from '@/lib/server/observability/metrics';

/**
 * A reconnect's catch-up stops at its hello's seq, the fan-out's cursor: everything past
 * it comes live. An idle fan-out (no socket here) moves its cursor to the log's heads
 * after reading them; a socket welcomed during that read had the old cursor as its hello,
 * and the entries the skip then passed were neither delivered live nor caught up (found
 * by a review helper). The commit here stands for another process's: this one hears of it
 * by its poll, not its in-process nudge.
 */
const ADMIN = { email: 'admin@live-reconnect.test', password: 'live-reconnect-password' };
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  LIVE_RECENT_ENTRIES: '0',
  LIVE_POLL_MS: '200',
});
const NUDGE_KEY = Symbol.for('reseller-panel.live-nudge');

describe('a socket back while an idle fan-out skips to the heads', () => {
  it('a customer created while the client was away reaches it after the reconnect', async () => {
    const admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
    const token = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body.token;
    const client = connectLiveClient(suite.server.url, token, 'reconnect');
    try {
      await client.waitForHello(1);
      await client.lists();
      client.socket.disconnect();
      await until(() => getMetrics().sources.sockets?.() === 0, 'the socket to go');
      // Another process's commit: this process hears of it by its poll, not its nudge.
      const g = globalThis as Record<symbol, unknown>;
      const nudge = g[NUDGE_KEY];
      g[NUDGE_KEY] = undefined;
      // The idle fan-out's read of the heads takes a moment (held here until released).
      const connection = getRuntime().orm.em.getConnection();
      const execute = connection.execute.bind(connection);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let held = false;
      (connection as { execute: unknown }).execute = async (...args: unknown[]) => {
        if (
          typeof args[0] === 'string' &&
          args[0] === 'select carrier_id, seq from carrier_log_head'
        ) {
          held = true;
          await gate;
        }
        return (execute as (...a: unknown[]) => unknown)(...args);
      };
      const created = await admin.post('/customers', { name: 'Made while away' });
      expect(created.status).toBe(201);
      await until(() => held, 'the idle skip to read the heads');
      // Back while the skip waits for its read.
      client.socket.connect();
      await client.waitForHello(2);
      release();
      (connection as { execute: unknown }).execute = execute;
      g[NUDGE_KEY] = nudge;
      // A later change comes live: the client is live and caught up as far as it knows.
      const later = await admin.post('/customers', { name: 'Made later' });
      await until(
        () => client.applied.some((d) => d.envelope.id === later.body.id),
        'the later change to come live',
      );
      const shown = (await client.lists()).customers?.map((row) => row.id) ?? [];
      expect(shown).toContain(created.body.id);
    } finally {
      client.close();
    }
  });
});
