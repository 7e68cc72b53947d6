/**
 * The panel's wiring, without the process around it: environment → database (embedded or
 * PostgreSQL, migrated, seeded) → shared runtime on globalThis → the request pipeline →
 * Socket.IO → fan-out → listen (STACK.md pitfall 3). server/index.ts runs it with Next
 * behind the pipeline; the integration tests run the same function in their own process
 * with the route handlers called directly (tests/fixtures/in-process-panel.ts), so both
 * exercise this one pipeline.
 */
import { PAGE_PATH_HEADER } from '@/lib/server/http/page-path';
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { setupWorker } from '@socket.io/sticky';
import type { TEnv } from '@/lib/server/env';
import { keepFirstLogin, loadOrCreateSecret } from '@/lib/server/data-dir';
import { setRuntime, type TServerConfig } from '@/lib/server/runtime';
import { applyForwarded } from '@/lib/server/http/forwarded';
import { openDatabase, type TDatabase } from '@/lib/server/db/open-database';
import { analyzeEmbeddedTables } from '@/lib/server/db/embedded-analyze';
import { createSocketServer, type TPanelServer as TSocketServer } from './socket';
import { attachRedisAdapter } from './redis-adapter';
import { FanOut } from './fan-out';
import { PortalHostnames, setPortalHostnames } from '@/lib/server/services/brands/portal-hostnames';
import { taggedSessionId } from './session-route';
import { mailSettingsOf } from '@/lib/server/services/notifications/mail-settings';
import { OutboxWorker } from '@/lib/server/services/notifications/outbox-worker';
import { RevisionTimer } from '@/lib/server/services/rates/apply-revisions';
import { observeRequest, serveOps } from './observability';
import { bodyLimitFor, payloadTooLarge } from '@/lib/server/api/body-limit';
import { answerApiRouteError } from '@/lib/server/api/routes';
import { getLogger } from '@/lib/server/observability/logger';
import { getMetrics } from '@/lib/server/observability/metrics';
import { RecentLog } from '@/lib/server/live/recent-log';
import { applySecurityHeaders } from '@/lib/server/http/security-headers';
import { checkDatabase } from '@/lib/server/db/database-check';

const log = (message: string) => getLogger().info(message);

/** What answers a request the pipeline passes on (pages, route handlers, next-auth). */
export interface TRequestServer {
  handle(req: IncomingMessage, res: ServerResponse): unknown;
  close(): Promise<void>;
}

export interface TPanelOptions {
  /** Development mode: Next's dev server and the relaxed security headers. */
  dev: boolean;
  /**
   * Builds what serves requests behind the pipeline, once the runtime is set and before
   * Socket.IO attaches (Next wants the HTTP server for its own upgrade listener).
   */
  createRequestServer(httpServer: Server, config: TServerConfig): Promise<TRequestServer>;
  /**
   * A worker under the cluster primary (server/cluster.ts, `WORKERS` > 1): the primary
   * holds the port and hands each connection over, so this process never listens.
   */
  clusterWorker?: boolean;
}

export interface TPanel {
  config: TServerConfig;
  database: TDatabase;
  httpServer: Server;
  io: TSocketServer;
  /** The port it listens on (the chosen one when PORT=0). */
  port: number;
  /** Drains and closes everything it opened; the runtime is cleared. */
  close(): Promise<void>;
}

export async function startPanel(env: TEnv, options: TPanelOptions): Promise<TPanel> {
  const { dev } = options;
  const database = await openDatabase(env);
  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  const config: TServerConfig = {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    publicUrl,
    panelHostnames: [new URL(publicUrl).hostname, ...(env.PANEL_HOSTNAMES ?? [])],
    authSecret: env.AUTH_SECRET ?? (await loadOrCreateSecret(env.DATA_DIR)),
    databaseKind: database.kind,
    redisUrl: env.REDIS_URL,
    dataDir: path.resolve(env.DATA_DIR),
    resellerDepthLimit: env.RESELLER_DEPTH_LIMIT,
    impersonationMinutes: env.IMPERSONATION_MINUTES,
    eventsRetentionDays: env.EVENTS_RETENTION_DAYS,
    loginThrottle: {
      freeFailures: env.LOGIN_FREE_FAILURES,
      lockFailures: env.LOGIN_LOCK_FAILURES,
      baseDelayMs: env.LOGIN_BASE_DELAY_MS,
      lockSeconds: env.LOGIN_LOCK_SECONDS,
      ipFailures: env.LOGIN_IP_FAILURES,
      ipWindowSeconds: env.LOGIN_IP_WINDOW_SECONDS,
      accountFailures: env.LOGIN_ACCOUNT_FAILURES,
      accountWindowSeconds: env.LOGIN_ACCOUNT_WINDOW_SECONDS,
      knownAddressDays: env.LOGIN_KNOWN_ADDRESS_DAYS,
    },
  };
  // next-auth reads its URL from the environment; it must be final before Next starts.
  process.env.NEXTAUTH_URL = config.publicUrl;
  // What the fan-out passes, kept for catch-up to page from (lib/server/live/recent-log.ts).
  const recent = env.LIVE_RECENT_ENTRIES > 0 ? new RecentLog(env.LIVE_RECENT_ENTRIES) : undefined;
  setRuntime({ config, orm: database.orm, recent });
  if (database.applied.length) log(`applied migrations: ${database.applied.join(', ')}`);
  await announceSeed(database, config);
  // No autovacuum on the embedded database: its tables are analysed here instead.
  const stopAnalyze = database.kind === 'embedded' ? analyzeEmbeddedTables(database.orm) : () => {};

  const httpServer = createServer({
    keepAliveTimeout: env.HTTP_KEEP_ALIVE_SECONDS * 1000,
  });
  const requests = await options.createRequestServer(httpServer, config);
  // The request listener must be in place before Socket.IO attaches: it wraps the
  // listeners it finds.
  // Set once the fan-out runs; cleared when shutting down (readiness).
  const state = { started: false, stopping: false, inFlight: 0 };
  httpServer.on('request', (req, res) => {
    // Counted for a worker's drain: its server never listened, so close() cannot wait.
    state.inFlight++;
    res.once('close', () => void state.inFlight--);
    applySecurityHeaders(req, res, { publicUrl: config.publicUrl, dev });
    // The page's own path, for its sign-in redirect to come back to; the client's own
    // header of that name never gets through.
    req.headers[PAGE_PATH_HEADER] = req.url ?? '/';
    observeRequest(req, res);
    // A declared body over the limit is refused before anything reads it.
    const path = (req.url ?? '/').split('?')[0]!;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (path.startsWith('/api/') && declared > bodyLimitFor(path)) {
      const error = payloadTooLarge(bodyLimitFor(path));
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify(error.toBody()));
      return;
    }
    // Outside /api/v1 (whose handlers count a body as they read it) the reader is
    // next-auth's, which takes the whole body whatever its size: a body of no declared
    // length (chunked) could grow without bound there, so one is asked for.
    if (
      path.startsWith('/api/') &&
      !path.startsWith('/api/v1/') &&
      req.headers['transfer-encoding'] !== undefined &&
      req.headers['content-length'] === undefined
    ) {
      res.writeHead(411, { 'content-type': 'application/json', connection: 'close' });
      res.end(
        JSON.stringify({
          error: {
            code: 'length_required',
            message: 'A body here needs a Content-Length (at most the limit).',
          },
        }),
      );
      return;
    }
    if (answerApiRouteError(req, res)) return;
    void serveOps(req, res, {
      metricsToken: env.METRICS_TOKEN,
      ready: async () => {
        const checks: Record<string, string> = {
          server: state.stopping ? 'draining' : state.started ? 'up' : 'starting',
        };
        // Within a second (up, down or busy): a saturated pool is not ready either.
        checks.database = (await checkDatabase(database.orm)).status;
        return {
          ready: checks.server === 'up' && checks.database === 'up',
          checks,
        };
      },
    }).then((answered) => {
      if (!answered) void requests.handle(req, res);
    });
  });

  // The socket server asks the fan-out for its head; the fan-out emits through the io.
  const live: { fanOut?: FanOut } = {};
  const hostnames = new PortalHostnames(database.orm);
  setPortalHostnames(hostnames);
  const io = createSocketServer(httpServer, {
    orm: database.orm,
    authSecret: config.authSecret,
    publicUrl: config.publicUrl,
    panelHostnames: config.panelHostnames,
    hostnames,
    head: (carrierId) => live.fanOut?.headOf(carrierId) ?? 0,
    passed: () => live.fanOut?.passedCount ?? 0,
    retentionDays: config.eventsRetentionDays,
    recent,
    maxHandshakes: env.LIVE_MAX_HANDSHAKES,
    handshakeQueue: env.LIVE_HANDSHAKE_QUEUE,
    socketsPerPerson: env.LIVE_SOCKETS_PER_PERSON,
  });
  // Before any other listener (Socket.IO's wrap the request listener above and take the
  // upgrades): the client's address and Host as the trusted proxies forwarded them.
  const forwarded = (req: IncomingMessage) => applyForwarded(req, env.TRUST_PROXY_HOPS);
  httpServer.prependListener('request', forwarded);
  httpServer.prependListener('upgrade', forwarded);
  const fanOut = new FanOut(io, database.orm, database.url, {
    pollMs: env.LIVE_POLL_MS,
    onBrandsChanged: () => hostnames.invalidate(),
    recent,
  });
  live.fanOut = fanOut;
  await fanOut.start();
  // Mail goes out only when an SMTP server is configured; otherwise it waits, pending.
  const mail = mailSettingsOf(env, config.publicUrl);
  const outbox = mail
    ? new OutboxWorker(database.orm, mail, config.publicUrl, { pollMs: env.OUTBOX_POLL_MS })
    : undefined;
  outbox?.start();
  if (!mail) log('mail delivery off (no SMTP_URL or SMTP_HOST): the outbox keeps mail pending');
  const revisionTimer = new RevisionTimer(database.orm);
  revisionTimer.start();
  const closeRedis = config.redisUrl
    ? await attachRedisAdapter(io, config.redisUrl, database.url)
    : undefined;
  const metrics = getMetrics();
  metrics.sources.sockets = () => io.engine.clientsCount;
  metrics.sources.pool = () => poolState(database);
  state.started = true;

  const detail = `${dev ? 'development' : 'production'}; database: ${
    database.kind === 'embedded' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL'
  }${config.redisUrl ? '; Redis adapter on' : ''}`;
  let port = config.port;
  if (options.clusterWorker) {
    // Connections come from the primary over IPC, routed by Socket.IO session id so that
    // every polling request of a session reaches the worker holding it. (The worker's
    // answers carry `Connection: close`, so a kept-alive connection cannot carry another
    // session's request to the wrong worker.)
    setupWorker(io);
    // Session ids name this worker, so the primary routes a session's requests here
    // even before sticky has learnt the session (server/session-route.ts).
    const workerId = cluster.worker?.id;
    if (workerId !== undefined) {
      io.engine.generateId = () =>
        taggedSessionId(workerId) ?? randomBytes(15).toString('base64url');
    }
    log(`worker ready (${detail})`);
  } else {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, env.HOST, resolve);
    });
    const address = httpServer.address();
    port = typeof address === 'object' && address ? address.port : config.port;
    log(`ready on http://localhost:${port} (${detail})`);
  }
  // Lines wait a moment to be written together (logger.ts); whoever waits for this one
  // (a supervisor, the primary's own ready line, the tests) gets it now.
  getLogger().flush();

  return {
    config,
    database,
    httpServer,
    io,
    port,
    async close() {
      state.stopping = true;
      // Stop accepting, close every socket, then let in-flight requests finish.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await revisionTimer.stop();
      await fanOut.stop();
      // Told now, waited for before the database closes: a send under way (a bounded
      // wait, outbox-worker.ts) does not hold the sockets open or the HTTP drain back.
      const outboxStopped = outbox?.stop();
      await io.close();
      httpServer.closeIdleConnections();
      const drained = options.clusterWorker ? untilNoRequests(state) : closed;
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      httpServer.closeAllConnections();
      await outboxStopped;
      await requests.close().catch(() => {});
      await closeRedis?.();
      await stopAnalyze();
      await database.close();
      setPortalHostnames(undefined);
      setRuntime(undefined);
    },
  };
}

/** Resolves once no request is in flight (checked every 50 ms; the caller bounds the wait). */
async function untilNoRequests(state: { inFlight: number }): Promise<void> {
  while (state.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** The knex pool under MikroORM (PostgreSQL driver); null where there is none. */
function poolState(database: TDatabase) {
  try {
    const pool = (
      database.orm.em.getConnection() as unknown as {
        getKnex(): {
          client: { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number } };
        };
      }
    ).getKnex().client.pool;
    return pool
      ? { used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires() }
      : null;
  } catch {
    return null;
  }
}

/** On the embedded default, tell the person at the terminal how to sign in. */
async function announceSeed(database: TDatabase, config: TServerConfig): Promise<void> {
  const { seed } = database;
  if (database.kind === 'embedded' && !seed.seeded) {
    const file = path.join(config.dataDir, 'first-login.txt');
    if (existsSync(file)) log(`the demo login is kept in ${file}`);
    return;
  }
  if (!seed.seeded || !seed.demo) return;
  if (seed.adminPassword) {
    const file = await keepFirstLogin(config.dataDir, seed.adminEmail, seed.adminPassword);
    log(`demo carrier created. Sign in as ${seed.adminEmail} / ${seed.adminPassword}`);
    log(`(the login is also kept in ${file})`);
  } else {
    log(`demo carrier created. Sign in as ${seed.adminEmail} with ADMIN_PASSWORD.`);
  }
}
