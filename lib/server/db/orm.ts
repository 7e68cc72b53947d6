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
  try {
    await client.connect();
  } catch (error) {
    throw missingDatabase(error, clientUrl) ?? error;
  }
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

/**
 * The panel never creates its database (`ensureDatabase: false`, config.ts): one letter
 * wrong in DATABASE_URL would otherwise bring up a new, empty installation — migrated,
 * seeded with a first admin, taking sign-ins — while the real data looked gone. The
 * missing database is said instead, by name.
 */
function missingDatabase(error: unknown, clientUrl: string): Error | null {
  if ((error as { code?: string }).code !== '3D000') return null;
  const name = decodeURIComponent(new URL(clientUrl).pathname.slice(1));
  return new Error(
    `the database "${name}" that DATABASE_URL names does not exist: create it first (createdb ${name}); the panel never creates one`,
  );
}

/** Applies pending migrations; returns the names of those applied now. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((migration) => migration.name);
}
