import type { Server } from 'node:http';
import next from 'next';
import type { TServerConfig } from '@/lib/server/runtime';
import type { TRequestServer } from './app';

/**
 * Next.js behind the pipeline: pages, `/api/auth` (next-auth) and `/api/health`. The
 * production server puts the API router in front of it (server/api-router.ts); the
 * header test (tests/integration/api-router.test.ts) also runs it alone, as the panel
 * answered /api/v1 before.
 */
export async function createNextRequestServer(
  httpServer: Server,
  config: TServerConfig,
  dev: boolean,
): Promise<TRequestServer> {
  const app = next({
    dev,
    dir: process.cwd(),
    hostname: 'localhost',
    port: config.port,
    httpServer,
  });
  await app.prepare();
  // Next attaches its own upgrade listener (dev HMR) to `httpServer` and leaves paths it
  // does not serve, such as /socket.io/, to Socket.IO.
  const handle = app.getRequestHandler();
  return { handle: (req, res) => handle(req, res), close: () => app.close() };
}
