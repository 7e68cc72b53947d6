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
  const fork = () =>
    divertUntilReady(cluster.fork({ PORT: String(port) }), ready, () => {
      const serving = [...ready];
      return serving[turn++ % serving.length];
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
 * @socket.io/sticky routes to every forked worker, including a replacement still
 * starting Next, and a message that reaches a worker before it listens is lost with the
 * connection it carries: the client would hang. So until `worker` serves, what is sent
 * to it goes to a worker that does; the later chunks of a request relayed that way
 * (same `connectionId`) follow their first one. Returns the worker.
 */
function divertUntilReady(
  worker: Worker,
  ready: Set<Worker>,
  pickServing: () => Worker | undefined,
): Worker {
  const own = worker.send.bind(worker) as (message: unknown, ...rest: unknown[]) => boolean;
  const diverted = new Map<string, Worker>();
  worker.send = ((message: { connectionId?: string } | null, ...rest: unknown[]) => {
    const connectionId = message?.connectionId;
    let target = connectionId ? diverted.get(connectionId) : undefined;
    if (!target && !ready.has(worker)) {
      target = pickServing();
      if (target && connectionId) diverted.set(connectionId, target);
    }
    if (!target) return own(message, ...rest);
    return (target.send as (message: unknown, ...rest: unknown[]) => boolean)(message, ...rest);
  }) as Worker['send'];
  return worker;
}
