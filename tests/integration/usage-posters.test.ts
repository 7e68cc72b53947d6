import { beforeAll, describe, expect, it } from 'vitest';
import { Account } from '@/lib/server/entities';
import { addGroup, addUser } from '../fixtures/accounts';
import { apiClient, ok, type TApiClient } from '../fixtures/api-client';
import { usePanelSuite } from '../fixtures/panel-suite';

/**
 * Whose a call record's id is (issue 18): the poster's. A reseller the carrier let post
 * (`usage:create`) cannot send, ahead of the carrier's switch, an id the switch will send
 * later and so have the carrier's call answered as its duplicate (never charged) or
 * refused; each poster's replays are still found and counted once.
 *
 * Tree: carrier C ─┬─ R1 ─ K1 (card S2, R1's)
 *                  └─ KD (card S1, the carrier's)
 */
const ADMIN = { email: 'admin@posters.test', password: 'posters-admin-pass' };
const PASSWORD = 'posters-user-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1: TApiClient;
const ids = {} as Record<'R1' | 'K1' | 'KD' | 'S1' | 'S2', string>;

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.R1 = (await ok(admin.post('/resellers', { name: 'R1', email: 'r1@posters.test' }))).id;
  await ok(
    admin.post('/users', {
      email: 'ops@r1.posters.test',
      password: PASSWORD,
      accountId: ids.R1,
      groupId: group.id,
    }),
  );
  const em = suite.orm.em.fork();
  const r1Account = await em.findOneOrFail(Account, { id: ids.R1 });
  // The carrier lets R1's own switch post its customers' calls.
  const switches = await addGroup(em, r1Account, 'Switch', ['usage:create', 'usage:read']);
  await addUser(em, {
    account: r1Account,
    group: switches,
    email: 'switch@r1.posters.test',
    password: PASSWORD,
  });
  r1 = await apiClient(suite.server.url, 'switch@r1.posters.test', PASSWORD);
  const ops = await apiClient(suite.server.url, 'ops@r1.posters.test', PASSWORD);

  const provider = (
    await ok(admin.post('/cards', { name: 'P', currency: 'EUR', kind: 'provider' }))
  ).id;
  await ok(
    admin.put(`/cards/${provider}/rates`, {
      rates: [{ prefix: '44', destination: 'UK', rate: '0.0100' }],
    }),
    200,
  );
  ids.S1 = (
    await ok(admin.post(`/cards/${provider}/derive`, { name: 'S1', markupPercent: '20' }))
  ).id;
  await ok(admin.post('/assignments', { cardId: ids.S1, accountId: ids.R1 }));
  ids.S2 = (await ok(ops.post(`/cards/${ids.S1}/derive`, { name: 'S2', markupPercent: '50' }))).id;
  ids.K1 = (await ok(ops.post('/customers', { name: 'K1', parentId: ids.R1 }))).id;
  ids.KD = (await ok(admin.post('/customers', { name: 'KD' }))).id;
  await ok(ops.post('/assignments', { cardId: ids.S2, accountId: ids.K1 }));
  await ok(admin.post('/assignments', { cardId: ids.S1, accountId: ids.KD }));
});

describe('a call record id', () => {
  it('is the poster’s own: another poster’s same id shadows nothing', async () => {
    const at = new Date().toISOString();
    const reseller = {
      id: 'switch-0001',
      accountId: ids.K1,
      number: '447700900001',
      startedAt: at,
      seconds: 60,
    };
    expect(await ok(r1.post('/usage', { records: [reseller] }), 200)).toMatchObject({ rated: 1 });

    // The carrier's switch sends the same id for its own customer's call: rated and charged.
    const carrier = { ...reseller, accountId: ids.KD, number: '447700900002', seconds: 120 };
    expect(await ok(admin.post('/usage', { records: [carrier] }), 200)).toMatchObject({
      rated: 1,
      duplicates: 0,
    });
    const kd = (await ok(admin.get(`/accounts/${ids.KD}/ledger`), 200)).items;
    expect(kd).toHaveLength(1);
    expect(kd[0].kind).toBe('usage');

    // Each poster's replay is still its own duplicate, answered with its own record.
    const again = await ok(r1.post('/usage', { records: [reseller] }), 200);
    const first = await ok(admin.post('/usage', { records: [carrier] }), 200);
    expect(again).toMatchObject({ rated: 0, duplicates: 1 });
    expect(first).toMatchObject({ rated: 0, duplicates: 1 });
    expect(again.records[0].recordId).not.toBe(first.records[0].recordId);
  });

  it('names its customer in any case: an upper-case id is the same account', async () => {
    const record = {
      id: 'switch-upper-1',
      accountId: ids.KD.toUpperCase(),
      number: '447700900003',
      startedAt: new Date().toISOString(),
      seconds: 30,
    };
    const posted = await ok(admin.post('/usage', { records: [record] }), 200);
    expect(posted).toMatchObject({ rated: 1, unrated: 0 });
    // Sent again in lower case: the same call, a duplicate.
    const again = { ...record, accountId: ids.KD };
    expect(await ok(admin.post('/usage', { records: [again] }), 200)).toMatchObject({
      duplicates: 1,
    });
  });

  it('is rated again per record: two posters’ unrated calls under one id are both re-rated', async () => {
    const ops = await apiClient(suite.server.url, 'ops@r1.posters.test', PASSWORD);
    const k1b = (await ok(ops.post('/customers', { name: 'K1b', parentId: ids.R1 }))).id;
    const kdb = (await ok(admin.post('/customers', { name: 'KDb' }))).id;
    const at = new Date().toISOString();
    const record = (accountId: string) => ({
      id: 'switch-0007',
      accountId,
      number: '447700900007',
      startedAt: at,
      seconds: 60,
    });
    // No card yet: both unrated, each its poster's own record.
    expect(await ok(r1.post('/usage', { records: [record(k1b)] }), 200)).toMatchObject({
      unratedByReason: { no_card: 1 },
    });
    expect(await ok(admin.post('/usage', { records: [record(kdb)] }), 200)).toMatchObject({
      unratedByReason: { no_card: 1 },
    });
    await ok(ops.post('/assignments', { cardId: ids.S2, accountId: k1b }));
    await ok(admin.post('/assignments', { cardId: ids.S1, accountId: kdb }));
    const rerated = await ok(
      admin.post('/usage/rerate', { all: true, idempotencyKey: 'posters-rerate-1' }),
      200,
    );
    expect(rerated).toMatchObject({ rated: 2, unrated: 0, duplicates: 0 });
    expect(new Set(rerated.records.map((r: { recordId: string }) => r.recordId)).size).toBe(2);
    for (const id of [k1b, kdb]) {
      const entries = (await ok(admin.get(`/accounts/${id}/ledger`), 200)).items;
      expect(entries.map((e: { kind: string }) => e.kind)).toEqual(['usage']);
    }
  });

  it('of no customer of its poster’s is never charged by a re-rate from above', async () => {
    // R1's switch names the carrier's own customer (an id R1 may have seen before a
    // transfer): not R1's to post, stored unrated on R1's side.
    const foreign = {
      id: 'switch-foreign-1',
      accountId: ids.KD,
      number: '447700900009',
      startedAt: new Date().toISOString(),
      seconds: 60,
    };
    const posted = await ok(r1.post('/usage', { records: [foreign] }), 200);
    expect(posted).toMatchObject({ rated: 0, unratedByReason: { unknown_account: 1 } });
    const before = (await ok(admin.get(`/accounts/${ids.KD}/ledger`), 200)).items;

    // The carrier's routine re-rate of everything unrated sees KD in its own scope, but
    // the call is still R1's claim: it stays unrated and KD is charged nothing.
    const rerated = await ok(
      admin.post('/usage/rerate', { all: true, idempotencyKey: 'posters-rerate-foreign' }),
      200,
    );
    expect(rerated).toMatchObject({ rated: 0, unratedByReason: { unknown_account: 1 } });
    expect((await ok(admin.get(`/accounts/${ids.KD}/ledger`), 200)).items).toEqual(before);
    const listed = (await ok(r1.get('/usage?status=unrated'), 200)).items;
    expect(listed).toContainEqual(
      expect.objectContaining({ cdrId: 'switch-foreign-1', reason: 'unknown_account' }),
    );
  });
});
