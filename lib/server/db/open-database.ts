import type { MikroORM } from '@mikro-orm/postgresql';
import type { TEnv } from '@/lib/server/env';
import { startEmbeddedDatabase, type TEmbeddedDatabase } from './embedded';
import { migrate, openOrm, withMigrationLock } from './orm';
import { seedIfEmpty, type TSeedResult } from './seed';

export interface TDatabase {
  kind: 'embedded' | 'postgresql';
  url: string;
  orm: MikroORM;
  applied: string[];
  seed: TSeedResult;
  close(): Promise<void>;
}

/**
 * Opens the database the environment names (PostgreSQL) or the embedded default
 * (PGlite under DATA_DIR), applies pending migrations and seeds an empty database, all
 * under one advisory lock so processes starting together do it once.
 */
export async function openDatabase(env: TEnv): Promise<TDatabase> {
  let embedded: TEmbeddedDatabase | undefined;
  const url = env.DATABASE_URL ?? (embedded = await startEmbeddedDatabase(env.DATA_DIR)).url;
  try {
    const orm = await openOrm(url);
    const { applied, seed } = await withMigrationLock(url, async () => ({
      applied: await migrate(orm),
      seed: await seedIfEmpty(orm.em.fork(), {
        demo: Boolean(embedded) || env.SEED_DEMO === '1',
        adminEmail: env.ADMIN_EMAIL,
        adminPassword: env.ADMIN_PASSWORD,
      }),
    }));
    return {
      kind: embedded ? 'embedded' : 'postgresql',
      url,
      orm,
      applied,
      seed,
      async close() {
        await orm.close(true);
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
