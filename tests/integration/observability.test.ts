import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { io } from 'socket.io-client';
import { signInOverHttp } from '../fixtures/http-login';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { waitForLockWaiters } from '../fixtures/lock-waiters';

/**
 * Operations (issue 7): readiness, and Prometheus metrics that move with the traffic —
 * on the real request pipeline (server/app.ts), in process. The request ids in the JSON
 * log the process prints, and a production server started without METRICS_TOKEN, are
 * checked on the production server (production-server.test.ts).
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const METRICS_TOKEN = 'scrape-secret-0123456789';
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  METRICS_TOKEN,
});

/** What the panel's JSON logger writes to fd 1 (pino's stream: fs.write / writeSync). */
const logged: string[] = [];
type TWrite = (fd: number, data: unknown, ...rest: unknown[]) => unknown;
const originals: Partial<Record<'write' | 'writeSync', TWrite>> = {};
beforeAll(() => {
  for (const name of ['write', 'writeSync'] as const) {
    const original = fs[name] as unknown as TWrite;
    originals[name] = original;
    (fs as unknown as Record<string, TWrite>)[name] = (fd, data, ...rest) => {
      if (fd === 1) {
        const text = typeof data === 'string' ? data : Buffer.from(data as Buffer).toString();
        for (const line of text.split('\n')) if (line) logged.push(line);
      }
      return original(fd, data, ...rest);
    };
  }
});
afterAll(() => {
  for (const name of ['write', 'writeSync'] as const) {
    (fs as unknown as Record<string, TWrite>)[name] = originals[name]!;
  }
});
/** The logger gathers lines for up to 50 ms (logger.ts BatchedLines). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

/** One series' value from Prometheus text, by name and label subset. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{.*\})? ([0-9.e+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.entries(labels).every(([key, value]) =>
      (match[2] ?? '').includes(`${key}="${value}"`),
    );
    if (has) return Number(match[3]);
  }
  return null;
}

describe('operations endpoints and logs', () => {
  it('answers ready when started with its database, and health with the database status', async () => {
    const ready = await fetch(`${suite.server.url}/api/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { server: 'up', database: 'up' },
    });
    const health = await fetch(`${suite.server.url}/api/health`);
    expect(await health.json()).toMatchObject({ status: 'ok', database: { status: 'up' } });
    expect((await fetch(`${suite.server.url}/api/ready`, { method: 'POST' })).status).toBe(405);
  });

  it('answers health and readiness within seconds while every connection of the pool waits', async () => {
    const token = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body.token;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held = suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute('lock table account in access exclusive mode');
      await released;
    });
    // Ten ordinary reads wait behind a slow writer: the panel's whole pool.
    const reads = Array.from({ length: 10 }, () =>
      fetch(`${suite.server.url}/api/v1/customers`, {
        headers: { authorization: `Bearer ${token}` },
      }).catch(() => null),
    );
    try {
      await waitForLockWaiters(suite.orm, 10, 6_000);
      const answer = async (path: string) => {
        const response = await fetch(`${suite.server.url}${path}`, {
          signal: AbortSignal.timeout(5_000),
        });
        return { status: response.status, body: (await response.json()) as unknown };
      };
      // Before: no answer until a connection freed (up to the pool's 60 s), and a
      // liveness probe restarted a process that was serving.
      expect(await answer('/api/health')).toEqual({
        status: 200,
        body: { status: 'degraded', database: { status: 'busy', kind: 'postgresql' } },
      });
      expect(await answer('/api/ready')).toEqual({
        status: 503,
        body: { status: 'not_ready', checks: { server: 'up', database: 'busy' } },
      });
    } finally {
      release();
      await held;
      await Promise.all(reads);
    }
    expect(await (await fetch(`${suite.server.url}/api/ready`)).json()).toMatchObject({
      checks: { database: 'up' },
    });
  });

  it('exposes Prometheus metrics that follow requests, sockets and changes', async () => {
    const scrape = async () => {
      const response = await fetch(`${suite.server.url}/api/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      return response.text();
    };
    const before = await scrape();
    const token = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body.token;
    const socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      auth: { token },
    });
    await new Promise((resolve) => socket.once('hello', resolve));
    try {
      const changed = new Promise((resolve) => socket.once('change', resolve));
      const created = await fetch(`${suite.server.url}/api/v1/customers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Metered' }),
      });
      expect(created.status).toBe(201);
      const id = ((await created.json()) as { id: string }).id;
      const read = await fetch(`${suite.server.url}/api/v1/customers/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await read.json()) as { name: string }).name).toBe('Metered');
      await changed;
      const after = await scrape();
      expect(sample(after, 'panel_sockets_connected')).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'panel_changes_fanned_out_total')!).toBeGreaterThan(
        sample(before, 'panel_changes_fanned_out_total') ?? 0,
      );
      // Counted when the answer has been written out, which can trail its receipt. The
      // registry is the process's: a file before this one in the same worker may have
      // counted such requests too, so the read above is what must add exactly one.
      const reads = (text: string) =>
        sample(text, 'panel_http_requests_total', {
          method: 'GET',
          route: '/api/v1/customers/{id}',
          status: '200',
        }) ?? 0;
      await expect.poll(async () => reads(await scrape())).toBe(reads(before) + 1);
      expect(sample(after, 'panel_fanout_lag_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'panel_db_pool_connections', { state: 'used' })).not.toBeNull();
      expect(after).toContain('panel_process_nodejs_eventloop_lag_seconds');
      // A path the API does not have is counted under one label, whatever it is.
      await fetch(`${suite.server.url}/api/v1/no-such-thing-${Date.now()}`);
      expect(await scrape()).not.toContain('no-such-thing');
    } finally {
      socket.disconnect();
    }
  });

  it('metrics need the METRICS_TOKEN bearer token', async () => {
    const url = `${suite.server.url}/api/metrics`;
    expect((await fetch(url)).status).toBe(404);
    const wrong = await fetch(url, {
      headers: { authorization: 'Bearer scrape-secret-wrong-6789' },
    });
    expect(wrong.status).toBe(404);
    const right = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('panel_http_requests_total');
  });
});

describe('what anyone can make the logs and metrics carry', () => {
  it('a database failure during a browser sign-in: logged, and the browser told only that', async () => {
    const before = logged.length;
    // The sign-in's throttle write waits on a lock; its backend is ended, as a restart
    // would. The failed statement held the email and the address.
    const blocked = suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute('lock table login_throttle in access exclusive mode');
      await waitForLockWaiters(suite.orm, 1, 6_000);
      const waiting = await suite.orm.em.fork().execute<{ pid: number }[]>(
        `select pid from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`,
      );
      for (const { pid } of waiting) {
        await suite.orm.em.fork().execute('select pg_terminate_backend(?)', [pid]);
      }
    });
    const login = await signInOverHttp(suite.server.url, 'someone@ops.test', 'a-password-1234');
    await blocked;
    await settle();
    const url = decodeURIComponent((JSON.parse(login.body) as { url?: string }).url ?? '');
    expect(url).toContain('error=unavailable');
    expect(url).not.toMatch(/login_throttle|insert |someone@ops\.test|terminating/);
    const lines = logged.slice(before).filter((line) => line.includes('sign-in: the check failed'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('someone@ops.test');
  });

  it('a client hanging up mid-body is no error, and a forged session cookie no stack', async () => {
    const before = logged.length;
    const errors = vi.spyOn(console, 'error');
    try {
      for (let index = 0; index < 10; index++) {
        await new Promise<void>((resolve) => {
          const socket = net.connect(suite.server.port, '127.0.0.1', () => {
            socket.write(
              'POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
                'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"name":',
            );
            setTimeout(() => (socket.destroy(), resolve()), 30);
          });
          socket.on('error', () => resolve());
        });
        // Chunked, to a route anyone may call: the body streams to the handler.
        await new Promise<void>((resolve) => {
          const socket = net.connect(suite.server.port, '127.0.0.1', () => {
            socket.write(
              'POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
                'content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n8\r\n{"email"\r\n',
            );
            setTimeout(() => (socket.destroy(), resolve()), 50);
          });
          socket.on('error', () => resolve());
        });
        const session = await fetch(`${suite.server.url}/api/auth/session`, {
          headers: { cookie: `next-auth.session-token=forged-${index}` },
        });
        expect(session.status).toBe(200);
      }
      await settle();
      // Neither an error nor a warning (it was logged as "the database is unavailable").
      expect(logged.slice(before).filter((line) => /"level":"(error|warn)"/.test(line))).toEqual(
        [],
      );
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });

  it('labels methods from a fixed set: odd ones are one series, not one each', async () => {
    const send = (method: string) =>
      new Promise<void>((resolve) => {
        const request = http.request(
          { host: '127.0.0.1', port: suite.server.port, method, path: '/api/v1/customers' },
          (response) => (response.resume(), response.on('end', resolve)),
        );
        request.on('error', () => resolve());
        request.end();
      });
    for (const method of ['PROPFIND', 'MKCALENDAR', 'M-SEARCH', 'PURGE', 'LOCK'])
      await send(method);
    const text = await (
      await fetch(`${suite.server.url}/api/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      })
    ).text();
    const methods = new Set(
      [...text.matchAll(/panel_http_requests_total\{method="([^"]+)"/g)].map((match) => match[1]),
    );
    expect(
      [...methods].filter((method) => !/^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/.test(method!)),
    ).toEqual(['other']);
  });
});
