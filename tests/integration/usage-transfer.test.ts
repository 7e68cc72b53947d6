import { beforeAll, describe, expect, it } from 'vitest';
import { directQuery } from '@/lib/server/db/direct-query';
import type { TUsageRecordDto, TUsageSummary } from '@/lib/shared/schemas/usage';
import { apiClient, ok, type TApiClient } from '../fixtures/api-client';
import { usePanelSuite } from '../fixtures/panel-suite';
import { withProcessClockOff } from '../fixtures/process-clock';
import { listenAs } from '../fixtures/cookie-listener';
import { until } from '../fixtures/live-client';

/**
 * A transfer moves the customer's path but not its past — its calls included: a call
 * from the customer's time under its old reseller is never priced on the new reseller's
 * chain nor filed under its path, whether it was stored unrated before the move and
 * re-rated after it, or it comes late from the switch with a start before the move. It
 * stays unrated `moved` (on the old path; a late one on the poster's), and the new
 * reseller never sees its number or time. A call after the move rates on the new chain.
 *
 * Tree: carrier ─┬─ R1 ─ K (moves to R3; credit limit 0: its calls unrated at first)
 *                └─ R3
 * Cards: P (provider) → S (carrier, to R1 and R3) → S1 (R1, to K), S3 (R3, to K there).
 */
const ADMIN = { email: 'admin@usage-transfer.test', password: 'usage-transfer-admin' };
const PASSWORD = 'usage-transfer-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1: TApiClient;
let r3: TApiClient;
const ids = {} as Record<'C' | 'R1' | 'R3' | 'K' | 'P' | 'S' | 'S1' | 'S3', string>;
/** Just before the transfer was asked for: every call of K's time under R1 starts earlier. */
let beforeMove = 0;

let clock = 0;
/** Call times now, a millisecond apart. */
function nextStart(): string {
  clock = Math.max(clock + 1, Date.now());
  return new Date(clock).toISOString();
}

function call(id: string, number: string, startedAt = nextStart()) {
  return { id, accountId: ids.K, number, startedAt, seconds: 65 };
}

async function listed(client: TApiClient, query = ''): Promise<TUsageRecordDto[]> {
  return (await ok(client.get(`/usage?limit=500${query}`), 200)).items;
}

/** The stored record: where it is filed, its outcome, and what was charged for it. */
async function stored(cdrId: string) {
  const [row] = await directQuery<{ path: string; status: string; reason: string | null }>(
    suite.orm.em.fork(),
    `select path, status, reason from usage_record where cdr_id = ?`,
    [cdrId],
  );
  const [charges] = await directQuery<{ n: number }>(
    suite.orm.em.fork(),
    `select count(*)::int as n from usage_charge c join usage_record r on r.id = c.record_id
      where r.cdr_id = ?`,
    [cdrId],
  );
  return { ...row!, charges: charges!.n };
}

async function pathOf(accountId: string): Promise<string> {
  const [row] = await directQuery<{ path: string }>(
    suite.orm.em.fork(),
    `select path from account where id = ?`,
    [accountId],
  );
  return row!.path;
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await ok(admin.post('/groups', { template: 'default-reseller' }))).id;
  ids.R1 = (await ok(admin.post('/resellers', { name: 'R1', email: 'r1@ut.test' }))).id;
  ids.R3 = (await ok(admin.post('/resellers', { name: 'R3', email: 'r3@ut.test' }))).id;
  for (const [email, accountId] of [
    ['ops@r1.ut.test', ids.R1],
    ['ops@r3.ut.test', ids.R3],
  ] as const) {
    await ok(admin.post('/users', { email, password: PASSWORD, accountId, groupId: group }));
  }
  r1 = await apiClient(suite.server.url, 'ops@r1.ut.test', PASSWORD);
  r3 = await apiClient(suite.server.url, 'ops@r3.ut.test', PASSWORD);

  ids.P = (await ok(admin.post('/cards', { name: 'P', currency: 'EUR', kind: 'provider' }))).id;
  await ok(
    admin.put(`/cards/${ids.P}/rates`, {
      rates: [{ prefix: '44', destination: 'UK', rate: '0.0100' }],
    }),
    200,
  );
  ids.S = (await ok(admin.post(`/cards/${ids.P}/derive`, { name: 'S', markupPercent: '20' }))).id;
  await ok(admin.post('/assignments', { cardId: ids.S, accountId: ids.R1 }));
  await ok(admin.post('/assignments', { cardId: ids.S, accountId: ids.R3 }));
  ids.S1 = (await ok(r1.post(`/cards/${ids.S}/derive`, { name: 'S1', markupPercent: '50' }))).id;
  ids.S3 = (await ok(r3.post(`/cards/${ids.S}/derive`, { name: 'S3', markupPercent: '100' }))).id;
  ids.K = (await ok(r1.post('/customers', { name: 'K', creditLimit: '0' }))).id;
  await ok(r1.post('/assignments', { cardId: ids.S1, accountId: ids.K }));

  // Under R1: a call left unrated (no credit).
  const early = await ok(admin.post('/usage', { records: [call('k-early', '447700900001')] }), 200);
  expect(early.records[0]).toMatchObject({ outcome: 'unrated', reason: 'credit_blocked' });

  // The carrier moves K to R3; R3 gives it credit.
  beforeMove = Date.now();
  // Asked of a process whose clock runs a minute behind the database's: the move is still
  // dated by the database, so every call of K's time under R1 starts before it.
  await withProcessClockOff(-60_000, () =>
    ok(admin.post(`/customers/${ids.K}/transfer`, { toParentId: ids.R3, cardId: ids.S3 }), 200),
  );
  const k = await ok(r3.get(`/customers/${ids.K}`), 200);
  await ok(r3.patch(`/customers/${ids.K}`, { version: k.version, creditLimit: '100' }), 200);
});

describe('a call stored unrated before the move, re-rated after it', () => {
  it('stays unrated `moved` on R1’s path: never priced on R3’s chain nor shown to R3', async () => {
    const oldPath = `${await pathOf(ids.R1)}${ids.K}/`;
    const answer = await ok(
      admin.post('/usage/rerate', { all: true, idempotencyKey: 'rerate-after-move' }),
      200,
    );
    expect(answer).toMatchObject({ rated: 0, unrated: 1, unratedByReason: { moved: 1 } });
    expect(answer.records).toEqual([
      expect.objectContaining({ id: 'k-early', outcome: 'unrated', reason: 'moved' }),
    ]);
    expect(await stored('k-early')).toEqual({
      path: oldPath,
      status: 'unrated',
      reason: 'moved',
      charges: 0,
    });

    // By id it answers the same; `{all: true}` leaves it alone from now on.
    const recordId = answer.records[0].recordId;
    const byId = await ok(
      admin.post('/usage/rerate', { ids: [recordId], idempotencyKey: 'rerate-by-id' }),
      200,
    );
    expect(byId.records[0]).toMatchObject({ outcome: 'unrated', reason: 'moved' });
    const again = await ok(
      admin.post('/usage/rerate', { all: true, idempotencyKey: 'rerate-again' }),
      200,
    );
    expect(again.records).toEqual([]);

    // R3 sees nothing of it: not in its calls, not in its summary, nothing on its books.
    expect((await listed(r3)).map((record) => record.cdrId)).not.toContain('k-early');
    expect(await listed(r3, `&accountId=${ids.K}`)).toEqual([]);
    const summary: TUsageSummary = await ok(r3.get('/usage/summary?by=account'), 200);
    expect(summary.rows).toEqual([]);
    expect((await ok(r3.get(`/accounts/${ids.K}/ledger`), 200)).items).toEqual([]);

    // R1 still lists it, as the carrier does.
    expect((await listed(r1)).map((record) => [record.cdrId, record.reason])).toEqual([
      ['k-early', 'moved'],
    ]);
    expect((await listed(admin, '&reason=moved')).map((record) => record.cdrId)).toContain(
      'k-early',
    );
    // R1's traffic summary counts it under K, but never names K as R3 now calls it.
    const k = await ok(r3.get(`/customers/${ids.K}`), 200);
    await ok(r3.patch(`/customers/${ids.K}`, { version: k.version, name: 'K of R3 now' }), 200);
    const r1Summary: TUsageSummary = await ok(r1.get('/usage/summary?by=account'), 200);
    expect(r1Summary.rows).toEqual([
      expect.objectContaining({ key: ids.K, name: ids.K, kind: null, unrated: 1 }),
    ]);
    expect(JSON.stringify(r1Summary)).not.toContain('K of R3 now');
  });
});

describe('a call from before the move that comes late', () => {
  it('is unrated `moved`, filed under the poster, seen by neither reseller', async () => {
    // R3 watching live: it must not hear of the call either, not even as a count.
    const watching = await listenAs(suite.server.url, r3);
    const late = call('k-late', '447700900002', new Date(beforeMove - 1_000).toISOString());
    // The switch asking at that instant hears the same: not a call of K's new chain.
    const asked = { accountId: ids.K, number: late.number };
    expect(await ok(admin.post('/authorize', { ...asked, at: late.startedAt }), 200)).toMatchObject(
      { allowed: false, reason: 'moved', refusedBy: { level: 0, accountId: ids.K } },
    );
    expect(await ok(admin.post('/authorize', asked), 200)).toMatchObject({ allowed: true });
    // And the price trace: no chain prices it, and it says when K moved — not R3's price.
    const query = `accountId=${ids.K}&number=${late.number}`;
    const traced = await ok(
      admin.get(`/rates/lookup?${query}&at=${encodeURIComponent(late.startedAt)}`),
      200,
    );
    expect(traced).toMatchObject({ levels: [], chains: [], movedAt: expect.any(String) });
    expect(Date.parse(traced.movedAt)).toBeGreaterThan(Date.parse(late.startedAt));
    const now = await ok(admin.get(`/rates/lookup?${query}`), 200);
    expect(now.movedAt).toBeUndefined();
    expect(now.chains.length).toBeGreaterThan(0);
    const answer = await ok(admin.post('/usage', { records: [late] }), 200);
    expect(answer).toMatchObject({ rated: 0, unratedByReason: { moved: 1 } });
    expect(answer.records[0]).toMatchObject({ outcome: 'unrated', reason: 'moved' });
    expect(await stored('k-late')).toEqual({
      path: await pathOf(ids.C),
      status: 'unrated',
      reason: 'moved',
      charges: 0,
    });
    expect((await listed(r3)).map((record) => record.cdrId)).not.toContain('k-late');
    expect((await listed(r1)).map((record) => record.cdrId)).not.toContain('k-late');
    expect((await listed(admin)).map((record) => record.cdrId)).toContain('k-late');
    expect((await ok(r3.get(`/accounts/${ids.K}/ledger`), 200)).items).toEqual([]);
    // Live: a customer R3 adds afterwards is the sentinel; nothing about K came before it.
    const sentinel = await ok(r3.post('/customers', { name: 'K3 sentinel' }));
    await until(
      () => watching.received.some((envelope) => envelope.id === sentinel.id),
      'R3 to hear of its own new customer',
    );
    const heard = watching.received.filter((envelope) => envelope.id === ids.K);
    watching.socket.close();
    expect(heard).toEqual([]);
  });
});

describe('a call after the move', () => {
  it('rates on R3’s chain and is filed under R3', async () => {
    const answer = await ok(
      admin.post('/usage', { records: [call('k-after', '447700900003')] }),
      200,
    );
    expect(answer).toMatchObject({ rated: 1, unrated: 0 });
    expect(await stored('k-after')).toMatchObject({
      path: `${await pathOf(ids.R3)}${ids.K}/`,
      status: 'rated',
    });
    const [record] = await listed(r3, `&accountId=${ids.K}`);
    expect(record).toMatchObject({ cdrId: 'k-after', status: 'rated' });
    expect(record!.levels.find((level) => level.level === 0)).toMatchObject({
      cardId: ids.S3,
      counterpartyId: ids.R3,
    });
    const [entry] = (await ok(r3.get(`/accounts/${ids.K}/ledger`), 200)).items;
    expect(entry).toMatchObject({ kind: 'usage', counterpartyId: ids.R3 });
  });

  it('is listed for K beside its calls from before: to the carrier all, to R3 its own', async () => {
    const cdrs = async (client: TApiClient) =>
      (await listed(client, `&accountId=${ids.K}`)).map((record) => record.cdrId);
    // Newest first: under R3, filed under the poster, under R1.
    expect(await cdrs(admin)).toEqual(['k-after', 'k-late', 'k-early']);
    expect(await cdrs(r3)).toEqual(['k-after']);
    await ok(r1.get(`/usage?accountId=${ids.K}`), 404);
    // Drilled down from R1 (the dashboard's row of K under R1): only what R1 billed, not
    // K's calls under R3 since; from R3, only R3's.
    const under = async (parent: string) =>
      (await listed(admin, `&accountId=${ids.K}&under=${parent}`)).map((record) => record.cdrId);
    expect(await under(ids.R1)).toEqual(['k-early']);
    expect(await under(ids.R3)).toEqual(['k-after']);
    // An account out of the caller's scope is no filter to probe with.
    await ok(r3.get(`/usage?accountId=${ids.K}&under=${ids.R1}`), 404);
  });
});
