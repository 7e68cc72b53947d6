import { createHash } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { TPanelServer } from './socket';
import { getLogger } from '@/lib/server/observability/logger';

/**
 * The adapter's channel prefix for one installation: `panel-` and a hash of its database
 * (host, port and name; never the credentials). Every process of an installation shares
 * its database and so its channels; two installations on one Redis (staging beside
 * production, or the test files running side by side) never hear each other's
 * broadcasts, nor answer each other's cross-process requests (presence, fetchSockets).
 */
export function adapterKey(databaseUrl: string): string {
  let identity = databaseUrl;
  try {
    const url = new URL(databaseUrl);
    url.username = '';
    url.password = '';
    url.search = '';
    identity = url.toString();
  } catch {
    // Not a URL: the text itself names the database.
  }
  return `panel-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

/**
 * With REDIS_URL, Socket.IO's Redis adapter carries what must cross server processes
 * (presence, re-scoping, kicking a session), on the installation's own channels
 * (`adapterKey`). Returns a closer for shutdown.
 */
export async function attachRedisAdapter(
  io: TPanelServer,
  redisUrl: string,
  databaseUrl: string,
): Promise<() => Promise<void>> {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) {
    client.on('error', (error: Error) =>
      getLogger().warn({ err: error }, 'redis: connection failed; cross-process delivery degraded'),
    );
  }
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub, { key: adapterKey(databaseUrl) }));
  return async () => {
    await Promise.allSettled([pub.quit(), sub.quit()]);
  };
}
