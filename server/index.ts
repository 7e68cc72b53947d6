/**
 * The panel's one process: an HTTP server that serves the API (server/api-router.ts),
 * the Next.js App Router handler and a Socket.IO server on the same port, wired by
 * server/app.ts. `npm run dev` runs
 * it under `tsx watch`; `npm start` runs it in production mode after building when
 * needed. With `WORKERS` > 1 the first process becomes the cluster primary
 * (server/cluster.ts) and the processes it forks run this file again as its workers.
 */
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { EnvError, parseEnv } from '@/lib/server/env';
import { getLogger } from '@/lib/server/observability/logger';

const log = (message: string) => getLogger().info(message);

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = parseEnv(process.env);
  const dev = env.NODE_ENV !== 'production';
  // The rest is imported once the configuration holds: a bad setting is named in a
  // fraction of a second instead of after 1.5 s of loading the database layer, Next and
  // Socket.IO; and a cluster primary never loads the panel it only forks.
  const { runPrimary, WORKER_READY } = await import('./cluster');
  // WORKERS=1 is one plain process, as before; a cluster worker started by someone else
  // (a process manager's cluster mode) is one too.
  if (env.WORKERS > 1 && cluster.isPrimary) return runPrimary(env);
  const clusterWorker = env.WORKERS > 1 && cluster.isWorker;

  const [{ startPanel }, { withApiRouter }, { createNextRequestServer }] = await Promise.all([
    import('./app'),
    import('./api-router'),
    import('./next-server'),
  ]);
  const panel = await startPanel(env, {
    dev,
    clusterWorker,
    // /api/v1 is answered from the route registry in this process; the rest is Next's.
    createRequestServer: async (httpServer, config) =>
      withApiRouter(await createNextRequestServer(httpServer, config, dev)),
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    const force = setTimeout(() => {
      log('shutdown took over 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    await panel.close();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (clusterWorker) process.send?.({ type: WORKER_READY });
}

main().catch((error: unknown) => {
  // Plain stderr: this is for the person who started it (no stack unless DEBUG).
  if (error instanceof EnvError) {
    console.error(`reseller-panel: ${error.message}`);
  } else {
    console.error(`reseller-panel: could not start: ${(error as Error).message ?? error}`);
    if (process.env.DEBUG) console.error(error);
  }
  process.exit(1);
});
