import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import pg from 'pg';
import { createTestDatabase, type TTestDatabase } from '../fixtures/test-database';
import {
  runPanelUntilExit,
  startPanelServer,
  TEST_AUTH_SECRET,
  type TPanelServer,
} from '../fixtures/panel-server';
import { requestToken } from '../fixtures/panel-suite';
import { bearerCall } from '../fixtures/api-client';
import { assertDeclaredResponse } from '../fixtures/declared-response';
import { redisAvailable, TEST_REDIS_URL } from '../fixtures/redis';
import { until } from '../fixtures/live-client';
import { workerOfSessionId } from '@/server/session-route';

/**
 * `WORKERS=2` (server/cluster.ts): one port, a primary routing each connection with
 * @socket.io/sticky to one of two panel processes that share PostgreSQL and Redis.
 * Which worker answered is read from the log: every worker record carries `worker`
 * (its pid), and each API request is logged with the `X-Request-Id` the test sends.
 */
const hasRedis = await redisAvailable();
const ADMIN = { email: 'admin@workers.test', password: 'cluster-workers-pass' };

let db: TTestDatabase;
let server: TPanelServer;
let token: string;
let resellerId: string;
const opened: Socket[] = [];

type TRecord = Record<string, unknown>;

/** The JSON records the primary and its workers have logged so far. */
function records(): TRecord[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as TRecord);
}

/** Pids of the workers that said they serve, in order (replacements included). */
function readyWorkers(): number[] {
  return records()
    .filter((record) => String(record.msg).startsWith('worker ready'))
    .map((record) => Number(record.worker));
}

/** The worker that logged the request with this id. */
function answeredBy(reqId: string): number | undefined {
  const line = records().find((record) => record.msg === 'request' && record.reqId === reqId);
  return line ? Number(line.worker) : undefined;
}

let tags = 0;
/** An API call tagged with a fresh request id; returns its status and the tag. */
async function tagged(method: string, path: string, body?: unknown) {
  const reqId = `cluster-${++tags}`;
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'x-request-id': reqId,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A connection handed to a worker that is not listening hangs: fail, do not wait.
    signal: AbortSignal.timeout(15_000),
  });
  const parsed = await response.json();
  assertDeclaredResponse(method, path, response.status, parsed);
  return { status: response.status, reqId };
}

/** Which workers logged these request ids (waiting for the log lines to arrive). */
async function workersOf(reqIds: string[]): Promise<Set<number>> {
  await until(() => reqIds.every((id) => answeredBy(id) !== undefined), 'request log lines');
  return new Set(reqIds.map((id) => answeredBy(id)!));
}

interface TWatcher {
  socket: Socket;
  ids: Set<string>;
  hellos: number;
  /** The log position its last `hello` named. */
  head: number;
  disconnects: number;
  /** Handshakes that failed (refused, or the connection lost on its way to a worker). */
  refusals: number;
  /** The last failed handshake's message, for a timeout's report. */
  lastError?: string;
}

/** A watcher as a failure message shows it. */
const stateOf = (w: TWatcher) => {
  const engine = w.socket.io.engine;
  const sid = engine?.id;
  return `${w.socket.connected ? 'up' : 'down'}/${w.hellos} hellos/${w.disconnects} drops/${w.refusals} refused${w.lastError ? ` (${w.lastError})` : ''}; manager ${w.socket.io._readyState}, engine ${engine?.readyState} ${engine?.transport?.name} sid ${sid} (worker ${sid ? workerOfSessionId(sid) : '-'})`;
};

/** A panel socket of the admin that records the ids of the changes it receives. */
async function watch(transports: ('polling' | 'websocket')[] = ['websocket']): Promise<TWatcher> {
  const socket = io(server.url, {
    transports,
    auth: { token },
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
  });
  opened.push(socket);
  const watcher: TWatcher = {
    socket,
    ids: new Set(),
    hellos: 0,
    head: 0,
    disconnects: 0,
    refusals: 0,
  };
  socket.on('change', (envelope: { id: string }) => watcher.ids.add(envelope.id));
  socket.on('hello', (hello: { seq: number }) => {
    watcher.hellos++;
    watcher.head = hello.seq;
  });
  socket.on('disconnect', () => watcher.disconnects++);
  socket.on('connect_error', (error: Error) => {
    watcher.refusals++;
    watcher.lastError = error.message;
  });
  // A refused handshake is not retried by Socket.IO itself; the panel's live feed
  // retries it (lib/client/live-feed.ts), and so does this watcher.
  socket.on('connect_error', () => {
    if (!socket.active) setTimeout(() => socket.connect(), 200);
  });
  await until(() => watcher.hellos === 1, 'hello', 30_000).catch(async (error: Error) => {
    throw new Error(`${error.message}; ${await stuckReport([watcher])}`);
  });
  return watcher;
}

/**
 * Where sockets that never got their `hello` stand, for a timeout's message: each one's
 * state, the server's log lines naming its engine id (the door logs each handshake at
 * debug level: at the door, refused, admitted), the log's last lines and the database's
 * sessions. Seen twice, cause unknown: the engine open on a live worker and the
 * namespace's CONNECT never answered.
 */
async function stuckReport(watchers: TWatcher[]): Promise<string> {
  const lines = server.output().split('\n');
  const sids = watchers.flatMap((w) => (w.socket.io.engine?.id ? [w.socket.io.engine.id] : []));
  const tail = [
    ...lines.filter((line) => sids.some((sid) => line.includes(sid))),
    '…',
    ...lines.slice(-15),
  ].join('\n');
  return `sockets: ${watchers.map(stateOf).join(', ')}\nserver:\n${tail}\ndatabase:\n${await sessionsOfDatabase()}`;
}

/**
 * The test database's connections as PostgreSQL sees them (state, what each waits on,
 * its statement), for a timeout's report: a handshake that never ends is waiting on
 * something, a lock or the pool.
 */
async function sessionsOfDatabase(): Promise<string> {
  const client = new pg.Client({ connectionString: db.url });
  try {
    await client.connect();
    const { rows } = await client.query<Record<string, unknown>>(
      `select pid, application_name, state, wait_event_type, wait_event,
              round(extract(epoch from now() - xact_start)::numeric, 1) as xact_s,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as query
         from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()`,
    );
    return rows.map((row) => JSON.stringify(row)).join('\n');
  } catch (error) {
    return `(could not read: ${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** One acknowledged round trip on the socket: the catch-up message, from its head. */
async function roundTrip(watcher: TWatcher): Promise<boolean> {
  const answer = (await watcher.socket
    .timeout(15_000)
    .emitWithAck('events:since', { since: watcher.head, limit: 5 })) as { ok: boolean };
  return answer.ok;
}

async function createCustomer(name: string): Promise<string> {
  const created = await bearerCall(server.url, token, 'POST', '/customers', {
    name,
    parentId: resellerId,
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

describe('WORKERS above 1 without what several processes share', () => {
  it.each([
    [{}, 'DATABASE_URL'],
    [
      {
        DATABASE_URL: 'postgresql://127.0.0.1/never-used',
        AUTH_SECRET: TEST_AUTH_SECRET,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        PUBLIC_URL: 'https://panel.carrier.example',
      },
      'REDIS_URL',
    ],
  ])('%o refuses to start, naming %s', async (env, variable) => {
    const { code, output } = await runPanelUntilExit({
      // Empty is unset (whatever the test process has).
      DATABASE_URL: '',
      REDIS_URL: '',
      ...env,
      WORKERS: '2',
      DATA_DIR: '/nonexistent/never-used',
    });
    expect(code).toBe(1);
    expect(output.trim()).toMatch(
      new RegExp(`^reseller-panel: Invalid configuration: ${variable} is required when WORKERS`),
    );
    expect(output).not.toContain('ready on');
  });
});

const METRICS_TOKEN = 'cluster-metrics-token-0123456789';

describe.skipIf(!hasRedis)('WORKERS=2: two panel processes behind one port', () => {
  beforeAll(async () => {
    db = await createTestDatabase(inject('testDatabase'));
    server = await startPanelServer({
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      WORKERS: '2',
      METRICS_TOKEN,
      // The socket handshakes' steps, for a timeout's report.
      LOG_LEVEL: 'debug',
    });
    token = (await requestToken(server.url, ADMIN.email, ADMIN.password)).body.token;
    resellerId = (
      await bearerCall(server.url, token, 'POST', '/resellers', {
        name: 'R1',
        email: 'r1@workers.test',
      })
    ).body.id;
  });

  afterAll(async () => {
    for (const socket of opened) socket.close();
    await server?.stop();
    await db?.drop();
  });

  it('answers on one port from both workers, reads and writes alike', async () => {
    expect(server.output()).toMatch(/ready on http:\/\/localhost:\d+ \(production; 2 workers/);
    const workers = readyWorkers();
    expect(new Set(workers).size).toBe(2);
    expect(workers).not.toContain(server.child.pid);

    const reads = [];
    for (let i = 0; i < 6; i++) reads.push(await tagged('GET', '/me'));
    // A body makes the primary relay the request over IPC instead of handing the socket over.
    const writes = [];
    for (let i = 0; i < 4; i++) {
      writes.push(
        await tagged('POST', '/customers', { name: `Spread ${i}`, parentId: resellerId }),
      );
    }
    expect(reads.map((read) => read.status)).toEqual(Array(6).fill(200));
    expect(writes.map((write) => write.status)).toEqual(Array(4).fill(201));
    expect(await workersOf(reads.map((read) => read.reqId))).toEqual(new Set(workers));
    expect(await workersOf(writes.map((write) => write.reqId))).toEqual(new Set(workers));
  });

  it('answers a scrape for both workers: a counter never goes back between scrapes', async () => {
    // Each scrape lands on the next worker; each is counted once it is answered.
    const series = 'panel_http_requests_total{method="GET",route="/api/metrics",status="200"}';
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${server.url}/api/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(response.status).toBe(200);
      const line = (await response.text())
        .split('\n')
        .find((candidate) => candidate.startsWith(`${series} `));
      seen.push(line ? Number(line.slice(series.length + 1)) : 0);
    }
    expect(seen.slice(1).map((count, index) => count - seen[index]!)).toEqual([1, 1, 1, 1, 1]);
  });

  it('keeps a polling session on its worker, and an upgraded one working', async () => {
    // Every round trip is a POST and a GET of its own (the workers answer Connection:
    // close); routed by turn alone, about half would reach the worker without the session.
    const polling = await watch(['polling']);
    for (let i = 0; i < 12; i++) expect(await roundTrip(polling)).toBe(true);
    expect(polling.socket.io.engine.transport.name).toBe('polling');
    // Its id names its worker: the primary routes by it before sticky learns the session.
    expect(workerOfSessionId(polling.socket.io.engine.id)).not.toBeNull();

    const upgrading = await watch(['polling', 'websocket']);
    await until(() => upgrading.socket.io.engine.transport.name === 'websocket', 'the upgrade');
    for (let i = 0; i < 3; i++) expect(await roundTrip(upgrading)).toBe(true);

    const id = await createCustomer('Seen by both sessions');
    await until(() => polling.ids.has(id) && upgrading.ids.has(id), 'the change on both');
    expect([polling.disconnects, upgrading.disconnects]).toEqual([0, 0]);
    polling.socket.close();
    upgrading.socket.close();
  });

  it('delivers a change to sockets on both workers; one killed, the other serves and it is replaced', async () => {
    const [victim, survivor] = readyWorkers();
    // Opened one after another, new connections take the workers in turn.
    const watchers: TWatcher[] = [];
    for (let i = 0; i < 4; i++) watchers.push(await watch());
    const before = await createCustomer('Before the kill');
    await until(() => watchers.every((w) => w.ids.has(before)), 'the change on every socket');

    process.kill(victim!, 'SIGKILL');
    await until(
      () => server.output().includes(`worker ${victim} exited (SIGKILL); starting a replacement`),
      'the primary noticing',
    );
    await until(() => watchers.some((w) => w.disconnects > 0), "the victim's sockets dropping");

    // The survivor answers everything meanwhile, the replacement's share included.
    const meanwhile = [];
    for (let i = 0; i < 6; i++) meanwhile.push(await tagged('GET', '/me'));
    expect(meanwhile.map((call) => call.status)).toEqual(Array(6).fill(200));
    expect(await workersOf(meanwhile.map((call) => call.reqId))).not.toContain(victim);

    // Every socket answers again (the dropped ones reconnected), then sees the next change.
    // The replacement boots Next meanwhile on the same two cores: give the reconnects time.
    // A dropped socket back once, the others never dropped. On a timeout the message
    // says where each socket stands (this wait timed out once in CI, cause unknown).
    await until(
      () => watchers.every((w) => w.socket.connected && w.hellos === (w.disconnects ? 2 : 1)),
      'every socket connected again',
      30_000,
    ).catch(async (error: Error) => {
      const stuck = watchers.filter((w) => !w.socket.connected);
      throw new Error(
        `${error.message}; all ${watchers.map(stateOf).join(', ')}; stuck ${await stuckReport(stuck)}`,
      );
    });
    for (const watcher of watchers) expect(await roundTrip(watcher)).toBe(true);
    const after = await createCustomer('After the kill');
    await until(() => watchers.every((w) => w.ids.has(after)), 'the next change on every socket');
    // The sockets were on both workers: the victim's dropped and came back, the others
    // never dropped — so the first change reached both processes' sockets.
    const dropped = watchers.filter((w) => w.disconnects > 0);
    const kept = watchers.filter((w) => w.disconnects === 0 && w.hellos === 1);
    expect(dropped.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    expect(dropped.length + kept.length).toBe(watchers.length);
    expect(dropped.every((w) => w.hellos === 2 && w.socket.connected)).toBe(true);

    // The replacement serves its share.
    await until(() => readyWorkers().length === 3, 'a replacement worker', 60_000);
    const replacement = readyWorkers()[2]!;
    expect([victim, survivor]).not.toContain(replacement);
    const later = [];
    for (let i = 0; i < 6; i++) later.push(await tagged('GET', '/me'));
    expect(await workersOf(later.map((call) => call.reqId))).toEqual(
      new Set([survivor, replacement]),
    );
    for (const watcher of watchers) watcher.socket.close();
  });

  it('drains every worker on SIGTERM to the primary, then exits 0', async () => {
    const socket = (await watch()).socket;
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(await server.stop()).toBe(0);
    expect(await closed).toMatch(/server namespace disconnect|transport close/);
    const stopped = records().filter((record) => record.msg === 'stopped');
    // Both live workers, then the primary (which logs without a worker field).
    expect(stopped.filter((record) => record.worker !== undefined)).toHaveLength(2);
    expect(stopped.at(-1)!.worker).toBeUndefined();
    expect(server.output()).toContain('SIGTERM: shutting down 2 workers');
    await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
  });
});
