import type { MikroORM } from '@mikro-orm/postgresql';
import { getLogger } from '@/lib/server/observability/logger';

/**
 * The embedded database (PGlite) runs PostgreSQL as one backend with no autovacuum
 * launcher: its tables are never analysed, and with no statistics the planner took the
 * Overview's traffic read as a nested loop — 58 ms at 2,500 calls, 12.7 s at 15,000,
 * every other request (a switch's `/authorize` too) waiting behind it on the one backend.
 * This does what autovacuum would: each minute, `analyze` the tables changed past its
 * default threshold (50 rows + 10 %), and all of them once at start.
 */
export function analyzeEmbeddedTables(orm: MikroORM, everyMs = 60_000): () => Promise<void> {
  let running: Promise<void> | null = null;
  const pass = (all: boolean) => {
    running ??= (async () => {
      try {
        const em = orm.em.fork();
        const stale = await em.execute<{ name: string }[]>(
          `select quote_ident(relname) as name from pg_stat_user_tables
            where ${all ? 'true' : 'n_mod_since_analyze > 50 + 0.1 * n_live_tup'}`,
        );
        for (const { name } of stale) await em.execute(`analyze ${name}`);
      } catch (error) {
        getLogger().warn({ err: error }, 'embedded database: analyze failed');
      } finally {
        running = null;
      }
    })();
    return running;
  };
  void pass(true);
  const timer = setInterval(() => void pass(false), everyMs);
  timer.unref();
  // Stopped before the database closes: a pass under way is waited for.
  return async () => {
    clearInterval(timer);
    await running;
  };
}
