import type { MikroORM } from '@mikro-orm/postgresql';

/** How long a health or readiness check waits for the database before saying `busy`. */
export const DATABASE_CHECK_MS = 1_000;

export type TDatabaseCheck = { status: 'up'; latencyMs: number } | { status: 'down' | 'busy' };

/** The check under way per ORM: probes arriving while one waits share it. */
const pending = new WeakMap<MikroORM, Promise<TDatabaseCheck>>();

/**
 * Whether the database answers `select 1` through the panel's pool, within
 * `DATABASE_CHECK_MS`. Not longer: with every connection of the pool taken (ten reads
 * behind a slow write) the query waited for one up to the pool's 60 s, and a liveness
 * probe timing out after a few seconds restarted a process that was serving. `busy`
 * says the pool did not give a connection in time; the query it started is shared by
 * the checks that come meanwhile, so probes never pile up in the pool's queue.
 */
export function checkDatabase(orm: MikroORM): Promise<TDatabaseCheck> {
  let check = pending.get(orm);
  if (!check) {
    const started = performance.now();
    check = orm.em
      .getConnection()
      .execute('select 1')
      .then(
        (): TDatabaseCheck => ({
          status: 'up',
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
        }),
        (): TDatabaseCheck => ({ status: 'down' }),
      )
      .finally(() => pending.delete(orm));
    pending.set(orm, check);
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<TDatabaseCheck>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'busy' }), DATABASE_CHECK_MS);
  });
  return Promise.race([check, late]).finally(() => clearTimeout(timer));
}
