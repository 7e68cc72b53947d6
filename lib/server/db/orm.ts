import { MikroORM, type Options } from '@mikro-orm/postgresql';
import pg from 'pg';
import { createOrmConfig } from './config';

/** Fixed key of the advisory lock that serializes migrate-and-seed across processes. */
const MIGRATION_LOCK_KEY = 0x5250_4d47;

export type TOrm = MikroORM;

export async function openOrm(
  clientUrl: string,
  overrides: Partial<Options> = {},
): Promise<MikroORM> {
  return MikroORM.init(createOrmConfig(clientUrl, overrides));
}

/**
 * Runs `work` while holding a database-wide advisory lock on a dedicated connection, so
 * several processes starting together migrate (and seed) once: the second waits, then
 * finds nothing pending. On the embedded database every connection shares PGlite's one
 * backend, which is single-process anyway (and guarded by a lock file).
 */
export async function withMigrationLock<T>(clientUrl: string, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: clientUrl });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await work();
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

/** Applies pending migrations; returns the names of those applied now. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((migration) => migration.name);
}
