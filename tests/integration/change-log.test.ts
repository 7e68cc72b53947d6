import { describe, expect, inject, it, onTestFinished } from 'vitest';
import {
  atCommitOrder,
  atCommitOrderOnce,
  mutate,
  setBeforeCommitHookForTests,
  type TChange,
} from '@/lib/server/live/change-log';
import { readLogAfterCursors } from '@/lib/server/live/read-log';
import { Account } from '@/lib/server/entities';
import { placeInTree } from '@/lib/server/services/accounts/account-tree';
import { useMigratedDatabase } from '../fixtures/migrated-database';
import { waitForLockWaiters } from '../fixtures/lock-waiters';

const database = useMigratedDatabase({ pool: { min: 0, max: 24 } });

/** Two carriers (tenants) writing at once: ids in the tree, paths rooted at them. */
const CARRIERS = ['00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000c2'];

/**
 * The writer: none (a shell command's mutation). What is tested here is the log's order,
 * which no author changes; a signed-in author is judged against its user and group rows
 * (authz/actor-holds.ts), which this bare database does not have.
 */
const actor = null;
const actorIn = (_carrierId: string) => actor;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A customer update in one carrier, as a service would record it. */
function customerUpdate(carrierId: string, version: number, after: Record<string, unknown>) {
  return async (_tx: unknown, record: (change: TChange) => void) => {
    record({
      resource: 'customers',
      entityId: '00000000-0000-4000-8000-000000000001',
      op: 'updated',
      version,
      before: null,
      after,
      scopeBefore: `${carrierId}/`,
      scopeAfter: `${carrierId}/`,
    });
  };
}

/** Each carrier's committed positions, in order. */
async function committedPositions(): Promise<Map<string, number[]>> {
  const rows = await database.orm.em
    .fork()
    .execute<{ carrier_id: string; carrier_seq: string }[]>(
      'select carrier_id, carrier_seq from change_log order by carrier_id, carrier_seq',
    );
  const positions = new Map<string, number[]>();
  for (const row of rows) {
    positions.set(row.carrier_id, [
      ...(positions.get(row.carrier_id) ?? []),
      Number(row.carrier_seq),
    ]);
  }
  return positions;
}

describe('change log: commit order is the order, per carrier', () => {
  it('a tailer following each carrier\'s "position > last" never skips an event, two carriers writing at once', async () => {
    const WRITERS_PER_CARRIER = 8;
    const PER_WRITER = 6;
    const seen = new Map<string, number[]>(CARRIERS.map((id) => [id, []]));
    let done = false;

    // The reader tails with the fan-out's own read: each carrier after its last position.
    const reader = (async () => {
      const em = database.orm.em.fork();
      const cursors = new Map<string, number>();
      // One last read once every writer has committed; what it passed over stays missed.
      for (let finished = false; !finished; await sleep(1)) {
        finished = done;
        for (const entry of await readLogAfterCursors(em, cursors, 1_000)) {
          seen.get(entry.carrierId)!.push(entry.seq);
          cursors.set(entry.carrierId, entry.seq);
        }
      }
    })();

    // Varied time between writing the log row (taking its position) and committing:
    // without the carrier's lock a later position would commit first and the reader
    // would pass the earlier one.
    let transactions = 0;
    setBeforeCommitHookForTests(async (tx) => {
      const n = transactions++;
      await tx.execute('select pg_sleep(?)', [((n * 7) % 20) / 1000]);
    });
    onTestFinished(() => setBeforeCommitHookForTests(undefined));
    const writers = CARRIERS.flatMap((carrierId) =>
      Array.from({ length: WRITERS_PER_CARRIER }, (_, writer) =>
        (async () => {
          for (let i = 0; i < PER_WRITER; i++) {
            await mutate(
              database.orm.em.fork(),
              actorIn(carrierId),
              customerUpdate(carrierId, i, { writer, i }),
            );
          }
        })(),
      ),
    );
    await Promise.all(writers);
    done = true;
    await reader;

    const committed = await committedPositions();
    for (const carrierId of CARRIERS) {
      const positions = committed.get(carrierId)!;
      // Each carrier's positions run 1, 2, 3, … with no gap: its own order.
      expect(positions).toEqual(
        Array.from({ length: WRITERS_PER_CARRIER * PER_WRITER }, (_, i) => i + 1),
      );
      // Everything committed was seen, once, in order: no event skipped, none twice.
      expect(seen.get(carrierId)).toEqual(positions);
    }
  });

  // The embedded database has one connection: every transaction waits on the open one,
  // whatever its carrier. Under CI the suite always runs on a PostgreSQL server.
  const embedded = inject('testDatabase').kind === 'pglite';
  if (embedded) console.log('skipped on PGlite: one connection serialises every writer');
  it.skipIf(embedded)(
    "one carrier's open write holds back its own carrier's next write, never another carrier's",
    async () => {
      const [first, second] = CARRIERS as [string, string];
      const before = await committedPositions();
      const headOf = (carrierId: string) => before.get(carrierId)?.at(-1) ?? 0;
      // The first write of `first` stops between its log row and its commit, holding its
      // carrier's position until released.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const held = new Promise<void>((resolve) => (entered = resolve));
      let calls = 0;
      setBeforeCommitHookForTests(async () => {
        if (calls++ > 0) return;
        entered();
        await gate;
      });
      onTestFinished(() => setBeforeCommitHookForTests(undefined));

      const holding = mutate(
        database.orm.em.fork(),
        actorIn(first),
        customerUpdate(first, 1, { n: 1 }),
      );
      await held;
      // Another carrier commits meanwhile: with one lock for the installation it would wait.
      await mutate(database.orm.em.fork(), actorIn(second), customerUpdate(second, 1, { n: 1 }));
      // The same carrier's next write waits on the held position (seen waiting on a lock).
      let queuedDone = false;
      const queued = mutate(
        database.orm.em.fork(),
        actorIn(first),
        customerUpdate(first, 2, { n: 2 }),
      ).then(() => (queuedDone = true));
      await waitForLockWaiters(database.orm, 1);
      expect(queuedDone).toBe(false);
      release();
      await Promise.all([holding, queued]);

      const after = await committedPositions();
      expect(after.get(second)?.slice(-1)).toEqual([headOf(second) + 1]);
      expect(after.get(first)?.slice(-2)).toEqual([headOf(first) + 1, headOf(first) + 2]);
    },
  );

  it('runs a hook’s prepare before the carrier’s lock, and its run under it', async () => {
    // A costly read (an alert check over a reseller's cards) made under the lock held
    // every writer of the carrier for its length: `prepare` goes before the lock is taken.
    const carrierId = CARRIERS[0]!;
    const holder = database.orm.em.fork();
    let release!: () => void;
    let locked!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held = new Promise<void>((resolve) => (locked = resolve));
    const holding = holder.transactional(async (tx) => {
      await tx.execute(
        `insert into carrier_log_head as h (carrier_id, seq) values (?, 0)
         on conflict (carrier_id) do update set seq = h.seq`,
        [carrierId],
      );
      locked();
      await released;
    });
    await held;
    const steps: string[] = [];
    const writing = mutate(database.orm.em.fork(), actor, async (_tx, record) => {
      atCommitOrder(
        record,
        carrierId,
        async () => void steps.push('run'),
        async () => void steps.push('prepare'),
      );
      await customerUpdate(carrierId, 1, { n: 'prepared' })(_tx, record);
    });
    // The writer waits on the lock the holder keeps: its prepare has run, its run not.
    await waitForLockWaiters(database.orm, 1);
    expect(steps).toEqual(['prepare']);
    release();
    await Promise.all([holding, writing]);
    expect(steps).toEqual(['prepare', 'run']);
  });

  it('writes a mutation of 5,000 changes whole, in order, each row as recorded', async () => {
    // Past 4,095 rows, sixteen bind values each passed the protocol's 65,535 parameters
    // (a card renamed with that many holders answered 500, for good).
    const holders = Array.from(
      { length: 3_000 },
      (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    );
    const before = await committedPositions();
    await mutate(database.orm.em.fork(), actor, async (_tx, record) => {
      for (let index = 0; index < 5_000; index++) {
        const carrierId = CARRIERS[index % 2]!;
        if (index === 4_999) {
          record({
            resource: 'cards',
            entityId: '00000000-0000-4000-8000-00000000ca4d',
            op: 'updated',
            version: 7,
            before: null,
            after: { name: 'Retail', rate: '0.01230' },
            scopeBefore: `${carrierId}/`,
            scopeAfter: `${carrierId}/`,
            audience: { holders },
          });
        } else {
          await customerUpdate(carrierId, index, { n: index })(null, record);
        }
      }
    });
    const after = await committedPositions();
    for (const carrierId of CARRIERS) {
      const added = (after.get(carrierId) ?? []).slice((before.get(carrierId) ?? []).length);
      const first = (before.get(carrierId) ?? []).at(-1) ?? 0;
      expect(added).toEqual(Array.from({ length: 2_500 }, (_, index) => first + 1 + index));
    }
    // The last one, read back as the fan-out reads it: its fields, and its size counting
    // the holders its audience names (the fan-out's byte budget: recent-log.ts).
    const cursors = new Map(
      CARRIERS.map((carrierId) => [carrierId, (after.get(carrierId) ?? []).at(-1)! - 1]),
    );
    const entries = await readLogAfterCursors(database.orm.em.fork(), cursors, 10);
    const card = entries.find((entry) => entry.resource === 'cards')!;
    expect(card).toMatchObject({
      op: 'updated',
      entityId: '00000000-0000-4000-8000-00000000ca4d',
      before: null,
      after: { name: 'Retail', rate: '0.01230' },
      audience: { holders },
    });
    expect(card.bytes).toBeGreaterThan(JSON.stringify({ holders }).length);
    const customer = entries.find((entry) => entry.resource === 'customers')!;
    expect(customer).toMatchObject({ after: { n: 4_998 }, before: null });
    expect(customer.summary ?? null).toBeNull();
  });

  it('runs a once-hook once for the whole transaction, nested writes included, and keeps what it records', async () => {
    // A bulk through single writes (each a nested mutate) named the same check each time:
    // it ran once per item, and what a nested write's hook recorded at the end was lost.
    const carrierId = CARRIERS[0]!;
    const steps: string[] = [];
    const entity = '00000000-0000-4000-8000-00000000a1e7';
    await mutate(database.orm.em.fork(), actor, async (tx, outer) => {
      for (const item of ['a', 'b', 'c']) {
        await mutate(tx, actor, async (_tx, record) => {
          atCommitOrderOnce(
            record,
            carrierId,
            'check',
            [item, 'shared'],
            async (_ordered, items, prepared: string) => {
              steps.push(`run ${items.join(',')} after ${prepared}`);
              record({
                resource: 'customers',
                entityId: entity,
                op: 'updated',
                version: 1,
                before: null,
                after: { checked: items.length },
                scopeBefore: `${carrierId}/`,
                scopeAfter: `${carrierId}/`,
              });
            },
            async (_tx2, items) => {
              steps.push(`prepare ${items.join(',')}`);
              return 'prepared';
            },
          );
        });
      }
      await customerUpdate(carrierId, 1, { n: 'bulk' })(tx, outer);
    });
    expect(steps).toEqual(['prepare a,shared,b,c', 'run a,shared,b,c after prepared']);
    const [row] = await database.orm.em
      .fork()
      .execute<{ after: { checked: number } }[]>(
        'select after from change_log where entity_id = ? order by seq desc limit 1',
        [entity],
      );
    expect(row?.after).toEqual({ checked: 4 });
  });

  it('writes nothing when the mutation fails: the log row and the change share one transaction', async () => {
    const before = await database.orm.em
      .fork()
      .execute<{ n: string }[]>('select count(*) as n from change_log');
    await expect(
      mutate(database.orm.em.fork(), actor, async (_tx, record) => {
        record({
          resource: 'customers',
          entityId: '00000000-0000-4000-8000-000000000002',
          op: 'created',
          version: 1,
          before: null,
          after: {},
          scopeBefore: null,
          scopeAfter: `${CARRIERS[0]}/`,
        });
        throw new Error('business rule says no');
      }),
    ).rejects.toThrow('business rule says no');
    const after = await database.orm.em
      .fork()
      .execute<{ n: string }[]>('select count(*) as n from change_log');
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('refuses to commit a change to a logged table without its log row, however it is written', async () => {
    // A carrier written the way services write: through mutate() with its record.
    const carrier = await mutate(database.orm.em.fork(), null, async (tx, record) => {
      const account = tx.create(Account, {
        ...placeInTree(null),
        kind: 'carrier',
        name: 'Guarded',
        currency: 'EUR',
      });
      await tx.flush();
      record({
        resource: 'carriers',
        entityId: account.id,
        op: 'created',
        version: account.version,
        before: null,
        after: { id: account.id },
        scopeBefore: null,
        scopeAfter: null,
      });
      return account;
    });
    const name = async () =>
      (await database.orm.em.fork().findOneOrFail(Account, { id: carrier.id })).name;
    // Raw SQL, the query builder and the unit of work without a log row: all refused.
    await expect(
      database.orm.em.fork().execute(`update account set name = 'raw' where id = ?`, [carrier.id]),
    ).rejects.toThrow(/without its change-log row/);
    await expect(
      database.orm.em.fork().nativeUpdate(Account, { id: carrier.id }, { name: 'builder' }),
    ).rejects.toThrow(/without its change-log row/);
    const em = database.orm.em.fork();
    (await em.findOneOrFail(Account, { id: carrier.id })).name = 'unit of work';
    await expect(em.flush()).rejects.toThrow(/without its change-log row/);
    // Inside mutate() but forgetting to record it: refused too.
    await expect(
      mutate(database.orm.em.fork(), null, async (tx) => {
        await tx.execute(`update account set name = 'unrecorded' where id = ?`, [carrier.id]);
      }),
    ).rejects.toThrow(/without its change-log row/);
    expect(await name()).toBe('Guarded');
  });

  it.skipIf(inject('testDatabase').kind === 'pglite')(
    'writes a nested mutation’s rows with the outermost one’s, taking the head lock once, last',
    async () => {
      // A bulk edit goes through the single edit (a mutate within a mutate): after its
      // first item the carrier's head must still be free, or the bulk would hold every
      // writer of the carrier while it goes on to wait for the next item's row.
      const carrier = CARRIERS[0]!;
      const before = (await committedPositions()).get(carrier) ?? [];
      let headFreeAfterFirst: boolean | undefined;
      await mutate(database.orm.em.fork(), actor, async (tx, record) => {
        await mutate(tx, actor, customerUpdate(carrier, 1, { item: 1 }));
        headFreeAfterFirst = await database.orm.em
          .fork()
          .transactional(async (other) => {
            await other.execute(
              'select 1 from carrier_log_head where carrier_id = ? for update nowait',
              [carrier],
            );
            return true;
          })
          .catch(() => false);
        await mutate(tx, actor, customerUpdate(carrier, 2, { item: 2 }));
        // A nested one that fails leaves nothing behind; the outer one goes on.
        await expect(
          mutate(tx, actor, async (inner, innerRecord) => {
            await customerUpdate(carrier, 3, { item: 'failed' })(inner, innerRecord);
            throw new Error('this item is refused');
          }),
        ).rejects.toThrow('this item is refused');
        await customerUpdate(carrier, 4, { item: 'outer' })(tx, record);
      });
      expect(headFreeAfterFirst).toBe(true);
      const rows = await database.orm.em
        .fork()
        .execute<{ after: { item: unknown } }[]>(
          'select after from change_log where carrier_id = ? and carrier_seq > ? order by carrier_seq',
          [carrier, before.at(-1) ?? 0],
        );
      expect(rows.map((row) => row.after.item)).toEqual([1, 2, 'outer']);
    },
  );
});
