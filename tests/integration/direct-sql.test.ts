import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Knex } from '@mikro-orm/knex';
import type { EntityManager } from '@mikro-orm/postgresql';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { directQuery, positional } from '@/lib/server/db/direct-query';
import { LoginThrottle } from '@/lib/server/entities';
import { useMigratedDatabase } from '../fixtures/migrated-database';

/**
 * Issue 14's two shortcuts under MikroORM (lib/server/db/direct-query.ts and
 * light-transaction.ts): a statement sent straight through `pg`, and the lighter
 * top-level transaction. Whatever runs inside a transaction — the ORM, its query
 * builder, `em.execute`, knex's `raw`, a direct statement — runs on its one connection,
 * all of it or none of it is kept, nothing runs on that connection once it has ended,
 * and the connection goes back to the pool.
 */
const database = useMigratedDatabase();

beforeAll(async () => {
  await database.orm.em
    .fork()
    .execute('create table direct_probe (id int primary key, note text not null)');
});

const em = () => database.orm.em.fork();
const notes = async () =>
  (await em().execute<{ note: string }[]>('select note from direct_probe order by id')).map(
    (row) => row.note,
  );
const clear = () => em().execute('delete from direct_probe');
const pool = () => em().getConnection().getKnex().client.pool as { numUsed(): number };
const backend = async (tx: EntityManager) =>
  (await directQuery<{ pid: number }>(tx, 'select pg_backend_pid() as pid where ? = 1', [1]))[0]!
    .pid;

describe('a statement straight through pg', () => {
  it('numbers `?` as MikroORM places values, and keeps a text without values as it is', () => {
    expect(positional('select ? as a, ?::int as b where x = ?', [1, 2, 3])).toBe(
      'select $1 as a, $2::int as b where x = $3',
    );
    expect(positional("select '{}'::jsonb \\? 'k', ?", [1])).toBe("select '{}'::jsonb ? 'k', $1");
    expect(positional('select 1 where true', [])).toBe('select 1 where true');
    expect(() => positional('select ?? from t', ['x'])).toThrow(/not supported/);
  });

  it('answers rows, with values as parameters, on a connection borrowed from the pool', async () => {
    await clear();
    await directQuery(em(), 'insert into direct_probe (id, note) values (?, ?), (?, ?)', [
      1,
      "it's ?",
      2,
      'two',
    ]);
    expect(await notes()).toEqual(["it's ?", 'two']);
    expect(pool().numUsed()).toBe(0);
  });

  it('keeps a statement prepared on its connection when asked, on PostgreSQL only', async () => {
    const prepared = await em().transactional(async (tx) => {
      const sql = 'select ?::int + 1 as next';
      expect(await directQuery(tx, sql, [1], { prepared: true })).toEqual([{ next: 2 }]);
      expect(await directQuery(tx, sql, [2], { prepared: true })).toEqual([{ next: 3 }]);
      await directQuery(tx, 'select ?::int as plain', [1]);
      return directQuery<{ statement: string }>(
        tx,
        'select statement from pg_prepared_statements where statement like ?',
        ['select $1::int%'],
      );
    });
    // PGlite serves every connection from one session: nothing is prepared there.
    expect(prepared.map((row) => row.statement)).toEqual(
      database.db.kind === 'postgresql' ? ['select $1::int + 1 as next'] : [],
    );
  });

  it("fails as em.execute fails: the driver's error converted", async () => {
    await clear();
    await directQuery(em(), 'insert into direct_probe (id, note) values (?, ?)', [1, 'one']);
    const again = directQuery(em(), 'insert into direct_probe (id, note) values (?, ?)', [1, 'x']);
    await expect(again).rejects.toBeInstanceOf(UniqueConstraintViolationException);
    expect(pool().numUsed()).toBe(0);
  });
});

describe('a top-level transaction', () => {
  it('runs the ORM, its builder, em.execute, raw and direct statements on its one connection', async () => {
    await clear();
    const pids = new Set<number>();
    await em().transactional(async (tx) => {
      pids.add(await backend(tx));
      const [viaExecute] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
      pids.add(viaExecute!.pid);
      const trx = tx.getTransactionContext<Knex.Transaction>()!;
      const viaRaw = await trx.raw('select pg_backend_pid() as pid');
      pids.add((viaRaw as unknown as { rows: { pid: number }[] }).rows[0]!.pid);
      const viaBuilder = await tx
        .createQueryBuilder(LoginThrottle)
        .select('*')
        .where({ email: 'nobody' })
        .execute('all');
      expect(viaBuilder).toEqual([]);
      await tx.execute(`insert into direct_probe (id, note) values (1, 'inside')`);
      tx.create(LoginThrottle, {
        email: 'probe@test',
        ip: '127.0.0.1',
        failures: 1,
        nextAllowedAt: new Date(),
        updatedAt: new Date(),
      });
      await tx.flush();
      expect(await tx.count(LoginThrottle, { email: 'probe@test' })).toBe(1);
      // Nobody outside sees what it wrote before it commits. (PGlite serves one session
      // at a time: another connection waits for the end of the transaction.)
      if (database.db.kind === 'postgresql') {
        expect(await notes()).toEqual([]);
        expect(await em().count(LoginThrottle, { email: 'probe@test' })).toBe(0);
      }
    });
    expect(pids.size).toBe(1);
    expect(await notes()).toEqual(['inside']);
    expect(await em().count(LoginThrottle, { email: 'probe@test' })).toBe(1);
    expect(pool().numUsed()).toBe(0);
    await em().nativeDelete(LoginThrottle, { email: 'probe@test' });
  });

  it('keeps nothing when its work fails, and gives the connection back', async () => {
    await clear();
    const failing = em().transactional(async (tx) => {
      await directQuery(tx, `insert into direct_probe (id, note) values (1, 'direct')`);
      await tx.execute(`insert into direct_probe (id, note) values (2, 'orm')`);
      throw new Error('work failed');
    });
    await expect(failing).rejects.toThrow('work failed');
    expect(await notes()).toEqual([]);
    expect(pool().numUsed()).toBe(0);
  });

  it('fails at COMMIT as the database refuses it, keeping nothing', async () => {
    await clear();
    await em().execute(
      `alter table direct_probe add constraint direct_probe_note_once unique (note)
         deferrable initially deferred`,
    );
    try {
      const refused = em().transactional(async (tx) => {
        await directQuery(
          tx,
          `insert into direct_probe (id, note) values (1, 'same'), (2, 'same')`,
        );
      });
      await expect(refused).rejects.toThrow(/direct_probe_note_once/);
      expect(await notes()).toEqual([]);
      expect(pool().numUsed()).toBe(0);
    } finally {
      await em().execute('alter table direct_probe drop constraint direct_probe_note_once');
    }
  });

  it('refuses every statement once it has ended: the connection is someone else’s by then', async () => {
    let kept: EntityManager | undefined;
    await em().transactional(async (tx) => {
      kept = tx;
    });
    await expect(kept!.execute('select 1')).rejects.toThrow(/already complete/);
    await expect(directQuery(kept!, 'select 1')).rejects.toThrow(/already complete/);
    expect(pool().numUsed()).toBe(0);
  });

  it('nests as a savepoint: a failed inner transaction undoes its own writes only', async () => {
    await clear();
    await em().transactional(async (tx) => {
      await directQuery(tx, `insert into direct_probe (id, note) values (1, 'outer')`);
      const inner = tx.transactional(async (nested) => {
        expect(await backend(nested)).toBe(await backend(tx));
        await nested.execute(`insert into direct_probe (id, note) values (2, 'inner')`);
        throw new Error('inner failed');
      });
      await expect(inner).rejects.toThrow('inner failed');
      await tx.transactional(async (nested) => {
        await nested.execute(`insert into direct_probe (id, note) values (3, 'kept inner')`);
      });
    });
    expect(await notes()).toEqual(['outer', 'kept inner']);
    expect(pool().numUsed()).toBe(0);
  });
});

describe('a panel session', () => {
  // PGlite has no just-in-time compiler to turn off; CI runs this on PostgreSQL.
  const embedded = inject('testDatabase').kind === 'pglite';
  if (embedded) console.log('skipped on PGlite: it compiles nothing just in time');

  it.skipIf(embedded)('plans no just-in-time compilation, however dear the estimate', async () => {
    // Estimated at 125,000, past PostgreSQL's jit_above_cost of 100,000: a session on
    // its defaults plans it compiled (the lookup paid 40–80 ms for that).
    const dear = 'explain (format json) select sum(a) from generate_series(1, 10000000) a';
    const planned = (plan: unknown) => JSON.stringify(plan).includes('"JIT"');
    const viaOrm = await em().execute<{ 'QUERY PLAN': unknown }[]>(dear);
    const direct = await directQuery<{ 'QUERY PLAN': unknown }>(em(), dear);
    const inTransaction = await em().transactional((tx) =>
      directQuery<{ 'QUERY PLAN': unknown }>(tx, dear),
    );
    const costs = [viaOrm, direct, inTransaction].map(
      (rows) =>
        (rows[0]!['QUERY PLAN'] as [{ Plan: { 'Total Cost': number } }])[0].Plan['Total Cost'],
    );
    expect(costs.every((cost) => cost > 100_000)).toBe(true);
    expect([viaOrm, direct, inTransaction].map(planned)).toEqual([false, false, false]);
    // And the setting itself, on a server built without a compiler too (where no plan
    // would show one either way).
    const setting = 'select current_setting(?) as jit';
    const settings = [
      ...(await em().execute<{ jit: string }[]>(setting, ['jit'])),
      ...(await directQuery<{ jit: string }>(em(), setting, ['jit'])),
      ...(await em().transactional((tx) => directQuery<{ jit: string }>(tx, setting, ['jit']))),
    ];
    expect(settings.map((row) => row.jit)).toEqual(['off', 'off', 'off']);
  });
});
