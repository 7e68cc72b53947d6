import { EventType, type Configuration, type TransactionEventBroadcaster } from '@mikro-orm/core';
import type { Knex } from '@mikro-orm/knex';
import { PostgreSqlConnection, PostgreSqlDriver } from '@mikro-orm/postgresql';
import type pg from 'pg';

/**
 * MikroORM's PostgreSQL driver with a lighter top-level transaction (issue 14). Every
 * `em.transactional` — `mutate()`'s above all, one per write request — began with
 * knex's transaction object: a copy of its client with four listeners and a whole knex
 * instance built around it, 0.25 ms of CPU per transaction where `BEGIN` and `COMMIT`
 * through `pg` cost 0.05 (docs/bench.md). Here a top-level transaction takes a
 * connection from the same pool, sends `BEGIN`, and hands MikroORM a stand-in for that
 * object with what MikroORM, knex's builders and this codebase ask of it: a client bound
 * to the connection (every ORM call, builder and `em.execute` in the transaction runs
 * on it; refused once the transaction has ended, as knex refuses), `raw`, nested
 * transactions (savepoints, through knex's own), `commit`, `rollback`, `isCompleted`.
 * MikroORM's side of a transaction — the fork, flush, events, merging back — is as it
 * was. A savepoint, an isolation level or a read-only transaction still goes to knex.
 */
export class PanelPostgreSqlDriver extends PostgreSqlDriver {
  constructor(config: Configuration) {
    super(config);
    // The driver makes its connection in its constructor, from a class it names itself.
    (this as unknown as { connection: PanelPostgreSqlConnection }).connection =
      new PanelPostgreSqlConnection(this.config);
  }
}

type TBeginOptions = Parameters<PostgreSqlConnection['begin']>[0] & {};

export class PanelPostgreSqlConnection extends PostgreSqlConnection {
  override async begin(options: TBeginOptions = {}): Promise<Knex.Transaction> {
    if (options.ctx || options.isolationLevel || options.readOnly) return super.begin(options);
    await options.eventBroadcaster?.dispatchEvent(EventType.beforeTransactionStart);
    const pool = this.getKnex().client as Knex.Client;
    const connection = (await pool.acquireConnection()) as pg.ClientBase;
    try {
      await connection.query('begin');
    } catch (error) {
      await pool.releaseConnection(connection);
      throw error;
    }
    this.logQuery('begin', options.loggerContext);
    const trx = lightTransaction(pool, connection);
    await (options.eventBroadcaster as TransactionEventBroadcaster | undefined)?.dispatchEvent(
      EventType.afterTransactionStart,
      trx,
    );
    return trx;
  }
}

type TKnexBegin = (container: unknown, config: unknown, outerTx: unknown) => Promise<unknown>;

/** What knex says of a statement sent in a transaction that has ended. */
const COMPLETED = 'Transaction query already complete';

/**
 * The stand-in for knex's transaction object, over `connection` (taken from `pool`,
 * given back when the transaction ends).
 */
function lightTransaction(pool: Knex.Client, connection: pg.ClientBase): Knex.Transaction {
  let completed = false;
  let ended: Promise<void> | undefined;
  // The pool's client underneath (its dialect, configuration and events), bound to the
  // connection: knex's builders run on the client `transacting()` hands them.
  const client = Object.create(pool) as Knex.Client & { transacting: boolean };
  client.transacting = true;
  client.acquireConnection = () =>
    completed ? Promise.reject(new Error(COMPLETED)) : Promise.resolve(connection);
  client.releaseConnection = () => Promise.resolve();

  /** COMMIT or ROLLBACK once, then the connection goes back to the pool. */
  const end = (sql: 'commit' | 'rollback'): Promise<void> => {
    if (ended) return ended;
    completed = true;
    ended = connection
      .query(sql)
      .then(() => undefined)
      .finally(() => pool.releaseConnection(connection));
    return ended;
  };

  // What knex's nested transactions read of the transaction around them: whether it has
  // ended, the last savepoint begun in it (siblings take turns), its transactor.
  const outer = {
    _lastChild: Promise.resolve() as Promise<unknown>,
    isCompleted: () => completed,
    transactor: undefined as unknown,
  };
  const transaction = (container?: unknown, given?: Record<string, unknown>) => {
    // knex's overload: `transaction(config)`.
    if (!given && container && typeof container === 'object') {
      given = container as Record<string, unknown>;
      container = undefined;
    }
    const config = { userParams: {}, doNotRejectOnRollback: true, ...given };
    // knex's own transaction on this client: a savepoint, since it is `transacting`.
    const begin = (client as unknown as { transaction: TKnexBegin }).transaction.bind(client);
    if (container) return begin(container, config, outer);
    return new Promise((resolve, reject) => {
      begin(resolve, config, outer).catch(reject);
    });
  };

  const trx = {
    client,
    isTransaction: true,
    userParams: {},
    isCompleted: () => completed,
    raw: (...args: unknown[]) => (client.raw as (...a: unknown[]) => unknown)(...args),
    transaction,
    savepoint: transaction,
    executionPromise: undefined as Promise<void> | undefined,
    /** MikroORM calls it, then waits for `executionPromise`, as with knex's. */
    commit() {
      trx.executionPromise = end('commit');
      return trx.executionPromise;
    },
    /** Resolves however the ROLLBACK went, as knex's does (the cause is the caller's). */
    rollback: () => end('rollback').catch(() => undefined),
  };
  outer.transactor = trx;
  return trx as unknown as Knex.Transaction;
}
