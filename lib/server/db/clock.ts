import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The database's clock, the one every process shares and every `now()` in SQL reads:
 * `moment` is `clock_timestamp()` (the time as it moves), `transaction` is `now()` (the
 * transaction's start, what a check in the same transaction compares with). A process's
 * own clock may run ahead of or behind it, so a time that SQL compares with is read here.
 */
export async function databaseClock(
  em: EntityManager,
  which: 'moment' | 'transaction' = 'moment',
): Promise<Date> {
  const [row] = await em.execute<{ at: Date }[]>(
    `select ${which === 'moment' ? 'clock_timestamp()' : 'now()'} as at`,
  );
  return new Date(row!.at);
}
