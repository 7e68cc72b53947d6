import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendRawLogRow, rawLogInsert } from '../fixtures/raw-log';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import {
  isSessionEnvelope,
  type TChangeEnvelope,
  type TLiveEnvelope,
} from '@/lib/shared/live/change';
import type { THello } from '@/lib/shared/live/events';
import { usePanelSuite } from '../fixtures/panel-suite';
import { startPanelServer } from '../fixtures/panel-server';
import { apiClient, bearerCall, type TApiClient } from '../fixtures/api-client';
import { requestToken } from '../fixtures/panel-suite';
import { until } from '../fixtures/live-client';
import { startPrivatePostgres } from '../fixtures/private-services';

/**
 * The live pipeline's economy and robustness (issue 14): only entries that changed
 * access re-check sockets; an entry the audience function cannot handle is skipped after
 * a bounded retry instead of halting delivery; the LISTEN connection comes back after
 * PostgreSQL restarts.
 */
const ADMIN = { email: 'admin@pipeline.test', password: 'pipeline-admin-pass' };
const PASSWORD = 'pipeline-user-pass';
const METRICS_TOKEN = 'pipeline-metrics-token-0123456789';

async function scrape(baseUrl: string, name: string): Promise<number> {
  const response = await fetch(`${baseUrl}/api/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  const line = (await response.text()).split('\n').find((row) => row.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} is not exported`);
  return Number(line.split(' ')[1]);
}

interface TListener {
  socket: Socket;
  hello: THello;
  received: TChangeEnvelope[];
  rescoped: unknown[];
  /** Both kinds, in arrival order. */
  log: string[];
}

/** A socket signed in by session cookie (a `TApiClient`) or by API token (a string). */
async function listen(baseUrl: string, credential: TApiClient | string): Promise<TListener> {
  const socket = io(baseUrl, {
    transports: ['websocket'],
    reconnection: false,
    ...(typeof credential === 'string'
      ? { auth: { token: credential } }
      : { extraHeaders: { cookie: credential.cookie } }),
  });
  const received: TChangeEnvelope[] = [];
  const rescoped: unknown[] = [];
  const log: string[] = [];
  socket.on('change', (envelope: TLiveEnvelope) => {
    // A session's envelope repeats the named event logged below as `rescoped`.
    if (isSessionEnvelope(envelope)) return;
    received.push(envelope);
    log.push(`${envelope.type} ${envelope.id}`);
  });
  socket.on('session.rescoped', (me) => {
    rescoped.push(me);
    log.push('rescoped');
  });
  const hello = await new Promise<THello>((resolve, reject) => {
    socket.once('hello', resolve);
    socket.once('connect_error', reject);
  });
  return { socket, hello, received, rescoped, log };
}

describe('one panel process', () => {
  const suite = usePanelSuite({
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    METRICS_TOKEN,
  });
  let admin: TApiClient;
  let adminLive: TListener;
  let opsLive: TListener;
  let group: { id: string; version: number };
  const sockets: Socket[] = [];

  beforeAll(async () => {
    admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
    const carrierId = (await admin.get('/me')).body.account.id;
    group = (
      await admin.post('/groups', {
        name: 'Ops',
        grants: ['resellers:read', 'customers:read'],
      })
    ).body;
    await admin.post('/users', {
      email: 'ops@pipeline.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: group.id,
    });
    adminLive = await listen(suite.server.url, admin);
    opsLive = await listen(
      suite.server.url,
      await apiClient(suite.server.url, 'ops@pipeline.test', PASSWORD),
    );
    sockets.push(adminLive.socket, opsLive.socket);
  });

  afterAll(() => {
    for (const socket of sockets) socket.close();
  });

  /** Patches the group and waits until the admin's socket has its event (the sentinel). */
  async function patchGroup(patch: Record<string, unknown>) {
    const response = await admin.patch(`/groups/${group.id}`, { version: group.version, ...patch });
    expect(response.status).toBe(200);
    group = response.body;
    await until(
      () =>
        adminLive.received.some(
          (e) =>
            e.type === 'groups.updated' && e.id === group.id && e.data.version === group.version,
        ),
      'the group change to reach the admin',
    );
  }

  it('a group rename re-checks no socket; a change of its grants re-checks its members', async () => {
    const before = await scrape(suite.server.url, 'panel_live_rechecks_total');
    await patchGroup({ name: 'Operations' });
    // The entry has been fanned out (the admin got it): its re-checks were decided then.
    expect(await scrape(suite.server.url, 'panel_live_rechecks_total')).toBe(before);
    expect(opsLive.rescoped).toEqual([]);

    await patchGroup({ grants: ['resellers:read'] });
    await until(() => opsLive.rescoped.length === 1, 'the member to be re-scoped');
    expect(await scrape(suite.server.url, 'panel_live_rechecks_total')).toBe(before + 1);
    expect(opsLive.rescoped[0]).toMatchObject({ grants: ['resellers:read'] });
  });

  it('holds only the sockets being re-checked: the others receive meanwhile', async () => {
    const token = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body.token;
    const call = (method: string, path: string, body?: unknown) =>
      bearerCall(suite.server.url, token, method, path, body);
    const carrierId = (await call('GET', '/me')).body.account.id;
    let desk = (await call('POST', '/groups', { name: 'Desk', grants: ['customers:read'] })).body;
    await call('POST', '/users', {
      email: 'desk@pipeline.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: desk.id,
    });
    // The watcher signs in by token, the desk user by session: the lock below stalls
    // the desk user's re-check (the door reads its session) and nothing of the watcher.
    const watcher = await listen(suite.server.url, token);
    const deskLive = await listen(
      suite.server.url,
      await apiClient(suite.server.url, 'desk@pipeline.test', PASSWORD),
    );
    sockets.push(watcher.socket, deskLive.socket);
    const locker = new pg.Client({ connectionString: suite.db.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table user_session in access exclusive mode');
      desk = (
        await call('PATCH', `/groups/${desk.id}`, {
          version: desk.version,
          grants: ['customers:read', 'resellers:read'],
        })
      ).body;
      const customer = (await call('POST', '/customers', { name: 'While re-checking' })).body;
      // Delivered to the watcher while the desk user's re-check is still waiting.
      await until(
        () => watcher.received.some((e) => e.id === customer.id),
        'the watcher to receive the next change during the re-check',
      );
      expect(deskLive.log).toEqual([]);
      await locker.query('rollback');
      // The desk user gets it after its re-check, under the access it was left with.
      await until(
        () => deskLive.received.some((e) => e.id === customer.id),
        'the held socket to receive it once re-checked',
      );
      // Re-scoped, then the entry's own signal to its group's members (the group's other
      // fields may have moved `/me` though rooms and grants did not), then the next change.
      expect(deskLive.log).toEqual([
        'rescoped',
        `groups.refetch ${desk.id}`,
        `customers.created ${customer.id}`,
      ]);
    } finally {
      await locker.query('rollback').catch(() => {});
      await locker.end();
    }
  });

  it('skips an entry whose audience throws, after bounded retries, and delivers the next', async () => {
    const skipped = await scrape(suite.server.url, 'panel_live_entries_skipped_total');
    // A row no service writes: audience hints of the wrong shape make the audience throw.
    const poisoned = await appendRawLogRow(suite.orm.em.fork(), {
      carrierId: (await admin.get('/me')).body.account.id,
      resource: 'cards',
      entityId: crypto.randomUUID(),
      op: 'updated',
      audienceJson: '{"holders": 5}',
    });
    const created = await admin.post('/customers', { name: 'After the poison' });
    expect(created.status).toBe(201);
    await until(
      () =>
        adminLive.received.some((e) => e.type === 'customers.created' && e.id === created.body.id),
      'the change after the poisoned entry to be delivered',
    );
    expect(await scrape(suite.server.url, 'panel_live_entries_skipped_total')).toBe(skipped + 1);
    expect(adminLive.received.map((e) => e.seq)).not.toContain(poisoned);
    // Catch-up across it answers what arrived live: the entry after it, not a failure.
    const page = await admin.get(`/events?since=${poisoned - 1}`);
    expect(page.status).toBe(200);
    expect(page.body.items.map((e: TChangeEnvelope) => e.seq)).not.toContain(poisoned);
    expect(page.body.items).toContainEqual(
      expect.objectContaining({ type: 'customers.created', id: created.body.id }),
    );
  });
});

describe('PostgreSQL restarted under a live socket', () => {
  it('the LISTEN connection comes back, and another process’s commit is delivered by it', async () => {
    const postgres = await startPrivatePostgres();
    if (!postgres) return;
    // The safety poll an hour away: only NOTIFY can deliver what this test writes.
    const server = await startPanelServer({
      DATABASE_URL: postgres.url,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      METRICS_TOKEN,
      LIVE_POLL_MS: '3600000',
    });
    let live: TListener | undefined;
    const other = new pg.Client({ connectionString: postgres.url });
    try {
      const client = await apiClient(server.url, ADMIN.email, ADMIN.password);
      const carrierId = (await client.get('/me')).body.account.id as string;
      live = await listen(server.url, client);
      expect(await scrape(server.url, 'panel_live_listen_reconnects_total')).toBe(0);

      await postgres.restart();
      let reconnects = 0;
      const deadline = Date.now() + 30_000;
      while (reconnects < 1 && Date.now() < deadline) {
        reconnects = await scrape(server.url, 'panel_live_listen_reconnects_total').catch(() => 0);
        if (reconnects < 1) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reconnects).toBe(1);

      // Another process commits a change (written here, as its own transaction would)
      // and notifies: only the LISTEN connection can wake this server for it.
      await other.connect();
      const entityId = crypto.randomUUID();
      const { sql, params } = rawLogInsert({
        carrierId,
        resource: 'customers',
        entityId,
        op: 'created',
        version: 1,
        after: { id: entityId, name: 'From elsewhere' },
        scopeAfter: `${carrierId}/`,
      });
      await other.query(sql, params);
      await other.query(`select pg_notify('change_log', 'another-process')`);
      const socket = live;
      await until(
        () => socket.received.some((e) => e.id === entityId),
        'the other process’s change to arrive',
      );
    } finally {
      live?.socket.close();
      await other.end().catch(() => {});
      await server.stop();
      await postgres.stop();
    }
    // Longer than every wait inside, so a failure still stops the private instance.
  }, 180_000);
});
