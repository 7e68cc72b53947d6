import { describe, expect, it, onTestFinished } from 'vitest';
import { mutate, setBeforeCommitHookForTests } from '@/lib/server/live/change-log';
import { Account } from '@/lib/server/entities';
import { placeInTree } from '@/lib/server/services/accounts/account-tree';
import type { TActor } from '@/lib/server/authz/actor';
import { useMigratedDatabase } from '../fixtures/migrated-database';

const database = useMigratedDatabase({ pool: { min: 0, max: 24 } });

const actor: TActor = {
  userId: '00000000-0000-4000-8000-00000000000a',
  email: 'writer@test',
  name: 'Writer',
  mustChangePassword: false,
  sessionVersion: 1,
  account: {
    id: '00000000-0000-4000-8000-00000000000b',
    name: 'Carrier',
    kind: 'carrier',
    path: 'x/',
  },
  group: { id: '00000000-0000-4000-8000-00000000000c', name: 'Admins' },
  grants: ['customers:update'],
  mfa: { enrolled: false, required: false },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('change log: commit order is the order', () => {
  it('a reader following "seq > last" never skips an event under concurrent writers of varied length', async () => {
    const WRITERS = 16;
    const PER_WRITER = 6;
    const total = WRITERS * PER_WRITER;
    const seen: number[] = [];
    let done = false;

    // The reader tails exactly like a fan-out would: everything after the last seq seen.
    const reader = (async () => {
      const em = database.orm.em.fork();
      // One last read once every writer has committed; what it passed over stays missed.
      for (let finished = false; !finished; await sleep(1)) {
        finished = done;
        const last = seen.length ? seen[seen.length - 1]! : 0;
        const rows = await em.execute<{ seq: string }[]>(
          'select seq from change_log where seq > ? order by seq',
          [last],
        );
        for (const row of rows) seen.push(Number(row.seq));
      }
    })();

    // Varied time between writing the log row (taking its seq) and committing: without
    // the lock a later seq would commit first and the reader would pass the earlier one.
    let transactions = 0;
    setBeforeCommitHookForTests(async (tx) => {
      const n = transactions++;
      await tx.execute('select pg_sleep(?)', [((n * 7) % 20) / 1000]);
    });
    onTestFinished(() => setBeforeCommitHookForTests(undefined));
    const writers = Array.from({ length: WRITERS }, (_, writer) =>
      (async () => {
        for (let i = 0; i < PER_WRITER; i++) {
          await mutate(database.orm.em.fork(), actor, async (_tx, record) => {
            record({
              resource: 'customers',
              entityId: '00000000-0000-4000-8000-000000000001',
              op: 'updated',
              version: i,
              before: null,
              after: { writer, i },
              scopeBefore: 'x/',
              scopeAfter: 'x/',
            });
          });
        }
      })(),
    );
    await Promise.all(writers);
    done = true;
    await reader;

    const committed = await database.orm.em
      .fork()
      .execute<{ seq: string }[]>('select seq from change_log order by seq');
    expect(committed).toHaveLength(total);
    // Everything committed was seen, once, in order: no event skipped, none twice.
    expect(seen).toEqual(committed.map((row) => Number(row.seq)));
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
          scopeAfter: 'x/',
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
});
