import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';
import type pg from 'pg';

export interface TDirectQueryOptions {
  /**
   * Keep the statement prepared on each connection (PostgreSQL only): planned once, not
   * on every call — the door's credential check spends 0.47 ms planning and 0.13 ms
   * running (issue 14). Only for a statement whose columns are named: a prepared
   * `select *` would fail once a migration adds a column.
   */
  prepared?: boolean;
}

/**
 * The texts of one hot statement, built once per variant (a call site has a few: with or
 * without a date, a caller path as a value or as SQL): each request hands the driver the
 * very string its prepared statement is found by, instead of rebuilding kilobytes of SQL
 * for the driver to hash afresh. Bounded: past `limit` variants a text is built each
 * time rather than kept.
 */
export function statementTexts(limit = 16): (key: string, build: () => string) => string {
  const texts = new Map<string, string>();
  return (key, build) => {
    let sql = texts.get(key);
    if (sql === undefined) {
      sql = build();
      if (texts.size < limit) texts.set(key, sql);
    }
    return sql;
  };
}

/**
 * One statement sent straight through `pg` on the connection MikroORM works on: the open
 * transaction's own connection when `em` is in one, else one taken from MikroORM's (knex's)
 * pool and given back — never a connection of its own. For the statements every request
 * runs (the door's credential check, an account's read and edit, the change-log row):
 * through `em.execute` each cost 0.13–0.29 ms of CPU against about 0.05 ms through `pg`
 * (issue 14, docs/bench.md) — the query text formatted with its values inlined, knex's
 * runner and its events, MikroORM's logging.
 *
 * `?` marks a value, as in `em.execute` (so no jsonb `?` operator unless written `\?`);
 * on PostgreSQL the values go to the server as parameters. The rows are those `em.execute` answers (the
 * same connection, so the same type parsers: numeric and timestamps as text), and a
 * driver error is converted as it converts them (unique violation, deadlock, …).
 */
export async function directQuery<T = Record<string, unknown>>(
  em: EntityManager,
  sql: string,
  values: readonly unknown[] = [],
  options: TDirectQueryOptions = {},
): Promise<T[]> {
  const run = async (connection: pg.ClientBase) => {
    if (!(await isPostgresServer(connection))) {
      // PGlite's socket interleaves the messages of an extended-protocol statement with
      // other connections' (one session serves them all): the values go inline, in one
      // simple-protocol message, as `em.execute` sends them.
      return (await connection.query(em.getPlatform().formatQuery(sql, values as unknown[])))
        .rows as T[];
    }
    const statement = numbered(sql, values);
    const name = options.prepared ? statement.name : undefined;
    return (await connection.query({ text: statement.text, values: values as unknown[], name }))
      .rows as T[];
  };
  const trx = em.getTransactionContext<Knex.Transaction>();
  try {
    if (trx) {
      // The same refusal knex gives: a finished transaction's connection belongs to
      // someone else by now.
      if (trx.isCompleted()) throw new Error('Transaction query already complete');
      return await run((await trx.client.acquireConnection()) as pg.ClientBase);
    }
    const pool = em.getConnection().getKnex().client as Knex.Client;
    const connection = (await pool.acquireConnection()) as pg.ClientBase;
    try {
      return await run(connection);
    } finally {
      await pool.releaseConnection(connection);
    }
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
}

/**
 * Whether the connection reaches a PostgreSQL server rather than the embedded PGlite's
 * socket, asked once per connection: PGlite serves every connection from one session
 * (a statement prepared on one would collide with the same name on another, and the
 * messages of one statement can interleave with another connection's) and takes no
 * COPY FROM STDIN.
 */
export async function isPostgresServer(connection: pg.ClientBase): Promise<boolean> {
  let known = SERVER_KIND.get(connection);
  if (known === undefined) {
    const { rows } = await connection.query<{ version: string }>('select version() as version');
    known = !rows[0]!.version.includes('PGlite');
    SERVER_KIND.set(connection, known);
  }
  return known;
}
const SERVER_KIND = new WeakMap<pg.ClientBase, boolean>();

/** Statement texts already numbered, and their names: the hot ones are a few fixed strings. */
const NUMBERED = new Map<string, { text: string; name: string }>();
const NUMBERED_MAX = 512;

function numbered(sql: string, values: readonly unknown[]): { text: string; name: string } {
  let statement = NUMBERED.get(sql);
  if (!statement) {
    const text = positional(sql, values);
    // A name per text: one name must always mean the same text on a connection.
    const name = `rp_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statement = { text, name };
    if (NUMBERED.size >= NUMBERED_MAX) NUMBERED.clear();
    NUMBERED.set(sql, statement);
  }
  return statement;
}

/**
 * `?` → `$1, $2, …` by MikroORM's own rule for `em.execute` (which inlines the values
 * instead): every `?` is a value, `\?` a literal `?`; a text without values is sent as
 * it is.
 */
export function positional(sql: string, values: readonly unknown[]): string {
  if (values.length === 0) return sql;
  let n = 0;
  return sql.replace(/\\\?|\?\??/g, (found) => {
    if (found === '\\?') return '?';
    if (found === '??') throw new Error('directQuery: `??` (an identifier) is not supported');
    return `$${++n}`;
  });
}

/**
 * A PostgreSQL array literal of `values` (`'{"a","b\"c",NULL}'`), sent as one text
 * parameter and cast in the statement (`?::text[]`): a whole column of a batch in one
 * value, which both the server and the embedded database take (the embedded one gets
 * its values inlined, so node-postgres's own array conversion is not available there).
 */
export function pgArray(values: readonly (string | number | null)[]): string {
  let text = '{';
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as string | number | null;
    if (index) text += ',';
    if (value === null) text += 'NULL';
    else if (typeof value === 'number') text += String(value);
    else text += `"${value.replace(/[\\"]/g, (char) => '\\' + char)}"`;
  }
  return text + '}';
}
