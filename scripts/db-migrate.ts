/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded
 * database under DATA_DIR when it is unset. The server also does this on every start,
 * under the same advisory lock.
 */
import { existsSync } from 'node:fs';
import { EnvError, parseEnv, ZDatabaseEnv } from '@/lib/server/env';
import { startEmbeddedDatabase } from '@/lib/server/db/embedded';
import { migrate, openOrm, withMigrationLock } from '@/lib/server/db/orm';

async function main() {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = parseEnv(process.env, ZDatabaseEnv);
  const embedded = env.DATABASE_URL ? undefined : await startEmbeddedDatabase(env.DATA_DIR);
  const url = env.DATABASE_URL ?? embedded!.url;
  const orm = await openOrm(url);
  try {
    const applied = await withMigrationLock(url, () => migrate(orm));
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await orm.close(true);
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(
    error instanceof EnvError ? error.message : `migration failed: ${(error as Error).message}`,
  );
  process.exit(1);
});
