import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { migrate, openOrm } from '@/lib/server/db/orm';
import { mutate } from '@/lib/server/live/change-log';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { createTestDatabase, type TTestDatabaseTarget } from '../fixtures/test-database';

export interface TOrderFigures {
  database: string;
  writers: number;
  /** Committed mutations per second, every writer in one carrier. */
  oneCarrierPerS: number;
  /** The same writers split over two carriers: both carriers' commits together. */
  twoCarriersPerS: number;
  /** Baseline: the same log rows written with no ordering at all (no lock, no head). */
  unorderedPerS: number;
}

/**
 * Commit order per carrier (issue 14, item 9). `writers` connections each run
 * `mutate()` — the product's own write path, one change-log row per mutation — for
 * `seconds`, first all in one carrier, then half in each of two carriers. A carrier's
 * head row is held from a writer's position to its commit (the commit's WAL flush
 * included), so one carrier's writers commit one after another while two carriers'
 * commit side by side. The baseline writes the same rows with no lock and no head.
 */
export async function benchOrder(
  target: TTestDatabaseTarget,
  options: { writers: number; seconds: number },
): Promise<TOrderFigures> {
  const db = await createTestDatabase(target, { migrated: true });
  const orm = await openOrm(db.url, { pool: { min: 0, max: options.writers + 2 } });
  try {
    await migrate(orm);
    const carriers: string[] = [];
    for (const name of ['Order A', 'Order B']) {
      const { carrier } = await createCarrier(orm.em.fork(), {
        name,
        adminEmail: `${name.replace(' ', '-').toLowerCase()}@bench.test`,
        adminPassword: 'bench-password-123',
      });
      carriers.push(carrier.id);
    }
    const oneCarrierPerS = await rate(options, (writer) => writeIn(orm, carriers[0]!, writer));
    const twoCarriersPerS = await rate(options, (writer) =>
      writeIn(orm, carriers[writer % 2]!, writer),
    );
    const unorderedPerS = await unordered(db.url, options, carriers[0]!);
    return {
      database: db.kind === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL',
      writers: options.writers,
      oneCarrierPerS,
      twoCarriersPerS,
      unorderedPerS,
    };
  } finally {
    await orm.close(true);
    await db.drop();
  }
}

/** One customer edit's log row in a carrier, written the way services write. */
function writeIn(orm: MikroORM, carrierId: string, writer: number): Promise<void> {
  return mutate(orm.em.fork(), null, async (_tx, record) => {
    record({
      resource: 'customers',
      entityId: crypto.randomUUID(),
      op: 'updated',
      version: writer,
      before: null,
      after: { writer },
      scopeBefore: `${carrierId}/`,
      scopeAfter: `${carrierId}/`,
    });
  });
}

/** Completed writes per second, `writers` loops running for `seconds`. */
async function rate(
  options: { writers: number; seconds: number },
  write: (writer: number) => Promise<void>,
): Promise<number> {
  const until = performance.now() + options.seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.writers }, async (_, writer) => {
      while (performance.now() < until) {
        await write(writer);
        done += 1;
      }
    }),
  );
  return Math.round(done / ((performance.now() - started) / 1000));
}

/**
 * The floor: each writer its own connection, a transaction with the same log row and
 * NOTIFY and no ordering (positions from a plain sequence, no head row, no lock).
 */
async function unordered(
  url: string,
  options: { writers: number; seconds: number },
  carrierId: string,
): Promise<number> {
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query('create sequence bench_unordered_seq start 1000000000');
  await setup.end();
  const clients = await Promise.all(
    Array.from({ length: options.writers }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  try {
    return await rate(options, async (writer) => {
      const client = clients[writer]!;
      await client.query('begin');
      await client.query(
        `with notified as materialized (select pg_notify('change_log', 'bench'))
         insert into change_log (at, carrier_id, carrier_seq, resource, entity_id, op, version,
           after, scope_before, scope_after, affects_access)
         select clock_timestamp(), $1, nextval('bench_unordered_seq'), 'customers',
           gen_random_uuid(), 'updated', $2, $3::jsonb, $4, $4, false
           from notified`,
        [carrierId, writer, JSON.stringify({ writer }), `${carrierId}/`],
      );
      await client.query('commit');
    });
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}
