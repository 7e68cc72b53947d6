/**
 * `WORKERS` > 1: this process becomes the cluster primary. It migrates and seeds the
 * database once, forks `WORKERS` panel processes (server/index.ts again, each the whole
 * panel: Next, Socket.IO, its own fan-out tailer, the Redis adapter) and holds the one
 * listening port itself, handing every connection to a worker with @socket.io/sticky:
 * a request carrying a Socket.IO session id (`sid`) goes to the worker that holds that
 * session — the polling transport spreads one session over many requests — and any
 * other request to the next worker in turn. A worker that dies is replaced; SIGTERM or
 * SIGINT drains every worker the way one process shuts down.
 *
 * Why the primary migrates, rather than letting the workers race for the migration
 * lock: a failing migration then stops the start once, with one message, before any
 * worker exists — instead of N workers failing the same way and being replaced in a
 * loop. The workers still go through the lock (server/app.ts) and find nothing to do.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:http';
import { setupMaster } from '@socket.io/sticky';
import type { TEnv } from '@/lib/server/env';
import { findFreePort } from '@/lib/server/db/embedded';
import { openDatabase } from '@/lib/server/db/open-database';
import { getLogger } from '@/lib/server/observability/logger';
import { CLUSTER_METRICS } from '@/lib/server/observability/metrics';
import { AggregatorRegistry } from 'prom-client';
import { sessionIdInRequest, workerOfSessionId } from './session-route';

/** What a worker sends the primary once its panel serves (server/index.ts). */
export const WORKER_READY = 'panel:worker-ready';

/** A worker's own shutdown is bounded by 10 s (server/index.ts); the primary waits a bit longer. */
const DRAIN_LIMIT_MS = 15_000;
/** Node's own header timeout, for a connection that never sends a byte. */
const SILENT_CONNECTION_MS = 60_000;

const log = () => getLogger();

export async function runPrimary(env: TEnv): Promise<void> {
  const database = await openDatabase(env);
  if (database.applied.length) log().info(`applied migrations: ${database.applied.join(', ')}`);
  await database.close();

  // PORT=0 (tests): choose the port now, so every worker knows its public address.
  const port = env.PORT || (await findFreePort());
  const httpServer = createServer();
  // The primary never parses a request; it reads the first bytes to route them. A
  // request with a body stays on the primary's socket (its bytes relayed over IPC), so
  // Node's header timeout — counted here from the connection's start, as the primary
  // never sees headers complete — would cut a long upload or answer midway. The worker
  // applies the usual request timeout to the same request.
  httpServer.headersTimeout = 0;
  httpServer.requestTimeout = 0;
  // What that timeout still has to do here: drop a connection that sends nothing. Once
  // bytes arrive the connection belongs to a worker, whose own timeouts apply.
  httpServer.on('connection', (socket) =>
    socket.setTimeout(SILENT_CONNECTION_MS, () => {
      if (socket.bytesRead === 0) socket.destroy();
    }),
  );
  // Round robin spreads the API's requests as well as new sessions; "least-connection"
  // counts only sessions, so with few sockets every request would go to one worker.
  setupMaster(httpServer, { loadBalancingMethod: 'round-robin' });
  // Relayed chunks are Buffers: the default JSON serialization would mangle them.
  cluster.setupPrimary({ serialization: 'advanced' });

  const ready = new Set<Worker>();
  let turn = 0;
  const routed = new Map<string, Worker>();
  const fork = () =>
    routeSends(cluster.fork({ PORT: String(port) }), ready, routed, () => {
      const serving = [...ready];
      return serving[turn++ % serving.length];
    });
  // A relayed request's answer has ended: its later messages (none) need no route.
  // A worker's scrape: every worker's registry, summed (lib/server/observability/metrics.ts).
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== CLUSTER_METRICS.ask) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: CLUSTER_METRICS.answer, id: message.id, text }),
      (error: Error) =>
        worker.send({ type: CLUSTER_METRICS.answer, id: message.id, error: error.message }),
    );
  });
  cluster.on('message', (_worker, message: { type?: string; connectionId?: string }) => {
    if (
      message?.connectionId &&
      (message.type === 'sticky:http-response-end' ||
        message.type === 'sticky:http-response-destroy')
    ) {
      routed.delete(message.connectionId);
    }
  });
  let stopping = false;
  // Replacements that die before serving wait longer each time (a broken build or a
  // database that refuses everyone), instead of forking in a tight loop.
  let failedStarts = 0;

  cluster.on('message', (worker, message: { type?: string }) => {
    if (message?.type !== WORKER_READY) return;
    ready.add(worker);
    failedStarts = 0;
    log().info(`worker ${worker.process.pid} ready (${ready.size} of ${env.WORKERS})`);
  });

  // The first start: every worker ready, or the whole start fails.
  await new Promise<void>((resolve, reject) => {
    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
      reject(
        new Error(
          `worker ${worker.process.pid} exited (${signal ?? `code ${code}`}) before it was ready; its lines above say why`,
        ),
      );
    };
    const onMessage = () => {
      if (ready.size < env.WORKERS) return;
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      resolve();
    };
    cluster.on('message', onMessage);
    cluster.on('exit', onExit);
    for (let index = 0; index < env.WORKERS; index++) fork();
  });

  cluster.on('exit', (worker, code, signal) => {
    const wasReady = ready.delete(worker);
    if (stopping) return;
    if (!wasReady) failedStarts++;
    const delay = failedStarts ? Math.min(30_000, 1000 * 2 ** (failedStarts - 1)) : 0;
    log().warn(
      `worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting a replacement${
        delay ? ` in ${delay / 1000} s` : ''
      }`,
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, env.HOST, resolve);
  });
  log().info(
    `ready on http://localhost:${port} (production; ${env.WORKERS} workers; database: PostgreSQL; Redis adapter on)`,
  );
  log().flush();

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log().info(`${signal}: shutting down ${Object.keys(cluster.workers ?? {}).length} workers`);
    const force = setTimeout(() => {
      log().info(`workers took over ${DRAIN_LIMIT_MS / 1000} s to stop; exiting`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, DRAIN_LIMIT_MS);
    force.unref();
    // No new connections; those already handed over finish on their worker. Each worker
    // drains as one process does (server/index.ts) and exits; the IPC channel stays
    // open meanwhile, since the answers to relayed requests travel over it.
    httpServer.close();
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    log().info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * Where what @socket.io/sticky sends to `worker` really goes:
 * - a request naming a session (`sid=`) whose id names another serving worker goes to
 *   that worker (server/session-route.ts): sticky may not have learnt the session yet,
 *   and would otherwise route it by turn to a worker that does not hold it;
 * - while `worker` is not serving yet (a replacement still starting Next), anything else
 *   goes to a worker that does: a message that reaches a worker before it listens is
 *   lost with the connection it carries, and the client would hang.
 * The later chunks of a relayed request (same `connectionId`) follow their first one.
 * Returns the worker.
 */
export function routeSends(
  worker: Worker,
  ready: Set<Worker>,
  routed: Map<string, Worker>,
  pickServing: () => Worker | undefined,
  /** The live worker of a cluster id (tests pass their own). */
  workerById: (id: number) => Worker | undefined = (id) => cluster.workers?.[id],
): Worker {
  const own = worker.send.bind(worker) as (message: unknown, ...rest: unknown[]) => boolean;
  worker.send = ((message: TStickyMessage | null, ...rest: unknown[]) => {
    // Only sticky's traffic is routed: anything else (a metrics request) is for this
    // worker itself — redirected, a starting worker's request reached a serving one
    // twice and its figures were summed twice.
    if (!message?.type?.startsWith('sticky:')) return own(message, ...rest);
    if (message?.type === 'sticky:connection') stopReading(rest[0]);
    const connectionId = message?.connectionId;
    let target = connectionId ? routed.get(connectionId) : undefined;
    if (
      !target &&
      (message?.type === 'sticky:connection' || message?.type === 'sticky:http-chunk-start')
    ) {
      const holder = holderOf(message.data, workerById);
      if (holder && holder !== worker && ready.has(holder)) target = holder;
    }
    if (!target && !ready.has(worker)) target = pickServing();
    if (target && connectionId) {
      if (message?.type === 'sticky:abort') routed.delete(connectionId);
      else routed.set(connectionId, target);
    }
    if (!target || target === worker) return own(message, ...rest);
    return (target.send as (message: unknown, ...rest: unknown[]) => boolean)(message, ...rest);
  }) as Worker['send'];
  return worker;
}

/**
 * The primary stops reading a connection it hands to a worker. Node closes the primary's
 * copy of a sent socket only once the worker acknowledges it, and until then the handle
 * goes on reading with its bytes thrown away (`onread` is a no-op once sent); a handle
 * waiting behind another's acknowledgement still reads into sticky's listener, which
 * takes the bytes for a new request. So a client quick enough — the Socket.IO CONNECT
 * that follows the WebSocket's 101, the next request on a kept-alive connection — could
 * lose what it sent to the primary, and hang: an engine open on a worker whose door
 * never heard from it (cluster-workers.test.ts caught it 3 times in 20 runs on a busy
 * machine). Not reading leaves those bytes in the kernel for the worker's handle.
 */
export function stopReading(socket: unknown): void {
  const handle = (socket as { _handle?: { readStop?: () => number } } | null)?._handle;
  handle?.readStop?.();
}

/** What the primary sends a worker (@socket.io/sticky's messages, as far as routing reads). */
interface TStickyMessage {
  type?: string;
  connectionId?: string;
  /** The request's first bytes. */
  data?: unknown;
}

/** The live worker a request's session id names, if any. */
function holderOf(
  data: unknown,
  workerById: (id: number) => Worker | undefined,
): Worker | undefined {
  const sid = sessionIdInRequest(data);
  const id = sid === null ? null : workerOfSessionId(sid);
  return id === null ? undefined : workerById(id);
}
