import type { EntityManager } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';
import type pg from 'pg';

/**
 * One statement sent straight through `pg` on the connection MikroORM works on: the open
 * transaction's own connection when `em` is in one, else one taken from MikroORM's (knex's)
 * pool and given back — never a connection of its own. For the statements every request
 * runs (the door's credential check, an account's read and edit, the change-log row):
 * through `em.execute` each cost 0.13–0.29 ms of CPU against about 0.05 ms through `pg`
 * (issue 14, docs/bench.md) — the query text formatted with its values inlined, knex's
 * runner and its events, MikroORM's logging.
 *
 * `?` marks a value, as in `em.execute` (so no jsonb `?` operator unless written `\\?`);
 * the values go to the server as parameters. The rows are those `em.execute` answers (the
 * same connection, so the same type parsers: numeric and timestamps as text), and a
 * driver error is converted as it converts them (unique violation, deadlock, …).
 */
export async function directQuery<T = Record<string, unknown>>(
  em: EntityManager,
  sql: string,
  values: readonly unknown[] = [],
): Promise<T[]> {
  const text = positional(sql, values);
  const trx = em.getTransactionContext<Knex.Transaction>();
  try {
    if (trx) {
      // The same refusal knex gives: a finished transaction's connection belongs to
      // someone else by now.
      if (trx.isCompleted()) throw new Error('Transaction query already complete');
      const connection = (await trx.client.acquireConnection()) as pg.ClientBase;
      return (await connection.query(text, values as unknown[])).rows as T[];
    }
    const pool = em.getConnection().getKnex().client as Knex.Client;
    const connection = (await pool.acquireConnection()) as pg.ClientBase;
    try {
      return (await connection.query(text, values as unknown[])).rows as T[];
    } finally {
      await pool.releaseConnection(connection);
    }
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
}

/** Statement texts already numbered: the hot ones are a handful of fixed strings. */
const NUMBERED = new Map<string, string>();
const NUMBERED_MAX = 512;

/**
 * `?` → `$1, $2, …` by MikroORM's own rule for `em.execute` (which inlines the values
 * instead): every `?` is a value, `\?` a literal `?`; a text without values is sent as
 * it is.
 */
export function positional(sql: string, values: readonly unknown[]): string {
  if (values.length === 0) return sql;
  const known = NUMBERED.get(sql);
  if (known !== undefined) return known;
  let n = 0;
  const out = sql.replace(/\\\?|\?\??/g, (found) => {
    if (found === '\\?') return '?';
    if (found === '??') throw new Error('directQuery: `??` (an identifier) is not supported');
    return `$${++n}`;
  });
  if (NUMBERED.size >= NUMBERED_MAX) NUMBERED.clear();
  NUMBERED.set(sql, out);
  return out;
}
