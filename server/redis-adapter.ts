import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { TPanelServer } from './socket';
import { getLogger } from '@/lib/server/observability/logger';

/**
 * With REDIS_URL, Socket.IO's Redis adapter carries what must cross server processes
 * (presence, re-scoping, kicking a session). Returns a closer for shutdown.
 */
export async function attachRedisAdapter(
  io: TPanelServer,
  redisUrl: string,
): Promise<() => Promise<void>> {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) {
    client.on('error', (error: Error) =>
      getLogger().warn({ err: error }, 'redis: connection failed; cross-process delivery degraded'),
    );
  }
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
  return async () => {
    await Promise.allSettled([pub.quit(), sub.quit()]);
  };
}
