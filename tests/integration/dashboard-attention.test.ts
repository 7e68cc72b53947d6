import { beforeAll, describe, expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * What the overview leads with (issue 15, item 7): `GET /dashboard/attention` names the
 * losing cards, suspended accounts, accounts out of credit and scheduled rate changes in
 * the caller's scope, and nothing of another reseller's.
 */
const ADMIN = { email: 'admin@attention.test', password: 'attention-admin-pass' };
const PASSWORD = 'attention-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
const ids = { r1: '', r2: '', hotel: '', prepaid: '', upstream: '', retail: '' };
const LATER = new Date(Date.now() + 7 * 86_400_000).toISOString();

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  ids.r1 = (await admin.post('/resellers', { name: 'Acme', email: 'acme@att.test' })).body.id;
  ids.r2 = (await admin.post('/resellers', { name: 'Blue', email: 'blue@att.test' })).body.id;
  for (const [account, email] of [
    [ids.r1, 'ops@acme.att.test'],
    [ids.r2, 'ops@blue.att.test'],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId: account,
      groupId: group,
    });
    expect(made.status).toBe(201);
  }
  r1 = await apiClient(suite.server.url, 'ops@acme.att.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@blue.att.test', PASSWORD);

  const hotel = await admin.post('/customers', { name: 'Hotel Alpine', parentId: ids.r1 });
  ids.hotel = hotel.body.id;
  const suspended = await admin.patch(`/customers/${ids.hotel}`, {
    version: hotel.body.version,
    status: 'suspended',
  });
  expect(suspended.status).toBe(200);

  // Prepaid with nothing paid: out of credit from the start, while active. The hotel,
  // suspended, is named as suspended only, even once its credit runs out too.
  const prepaid = await admin.post('/customers', {
    name: 'Cafe Prepaid',
    parentId: ids.r1,
    creditLimit: '0',
  });
  expect(prepaid.body.creditBlock).toBe('own');
  ids.prepaid = prepaid.body.id;
  const hotelNow = (await admin.get(`/customers/${ids.hotel}`)).body;
  const hotelDry = await admin.patch(`/customers/${ids.hotel}`, {
    version: hotelNow.version,
    creditLimit: '0',
  });
  expect(hotelDry.body.creditBlock).toBe('own');

  ids.upstream = (
    await admin.post('/cards', { name: 'Upstream', currency: 'EUR', kind: 'provider' })
  ).body.id;
  const put = await admin.put(`/cards/${ids.upstream}/rates`, {
    rates: [
      { prefix: '44', destination: 'UK', rate: '0.0500' },
      { prefix: '49', destination: 'Germany', rate: '0.0300', effectiveFrom: LATER },
    ],
  });
  expect(put.status).toBe(200);
  const retail = await admin.post(`/cards/${ids.upstream}/derive`, {
    name: 'Retail',
    markupPercent: '10',
    overrides: [{ prefix: '44', rate: '0.0100' }],
  });
  expect(retail.status).toBe(201);
  ids.retail = retail.body.id;
});

describe('GET /dashboard/attention', () => {
  it('names the carrier its losing card, the suspended customer and the scheduled rates', async () => {
    const answer = await admin.get('/dashboard/attention');
    expect(answer.status).toBe(200);
    expect(answer.body.losingCards).toEqual({
      total: 1,
      items: [{ id: ids.retail, name: 'Retail', losingRates: 1 }],
    });
    expect(answer.body.suspended).toEqual({
      total: 1,
      items: [{ id: ids.hotel, kind: 'customer', name: 'Hotel Alpine' }],
    });
    expect(answer.body.creditBlocked).toEqual({
      total: 1,
      items: [
        {
          id: ids.prepaid,
          kind: 'customer',
          name: 'Cafe Prepaid',
          balance: '0.000000',
          currency: 'EUR',
        },
      ],
    });
    const scheduled = answer.body.scheduled.items.map((item: { cardId: string }) => item.cardId);
    expect(scheduled).toContain(ids.upstream);
    const upstream = answer.body.scheduled.items.find(
      (item: { cardId: string }) => item.cardId === ids.upstream,
    );
    expect(upstream).toMatchObject({ name: 'Upstream', rows: 1, next: LATER });
  });

  it('names a card whose next revision is scheduled (`liveAt`), by its changed rows', async () => {
    const made = await admin.post('/cards', {
      name: 'Tomorrow',
      currency: 'EUR',
      kind: 'provider',
    });
    const id = made.body.id as string;
    const rates = (uk: string) => [
      { prefix: '44', destination: 'UK', rate: uk },
      { prefix: '33', destination: 'France', rate: '0.0200' },
    ];
    expect((await admin.put(`/cards/${id}/rates`, { rates: rates('0.0100') })).status).toBe(200);
    const before = (await admin.get('/dashboard/attention')).body.scheduled;
    expect(before.items.map((item: { cardId: string }) => item.cardId)).not.toContain(id);
    // The whole deck rises tomorrow: one row changes, the other stays.
    const liveAt = new Date(Date.now() + 86_400_000).toISOString();
    const put = await admin.put(`/cards/${id}/rates`, { rates: rates('0.0500'), liveAt });
    expect(put.status).toBe(200);
    const after = (await admin.get('/dashboard/attention')).body.scheduled;
    expect(after.total).toBe(before.total + 1);
    expect(after.items.find((item: { cardId: string }) => item.cardId === id)).toEqual({
      cardId: id,
      name: 'Tomorrow',
      rows: 1,
      next: liveAt,
    });
    // Cancelled, it is no longer named.
    const revisions = (await admin.get(`/cards/${id}/revisions`)).body.items as {
      number: number;
      state: string;
    }[];
    const pending = revisions.find((revision) => revision.state === 'scheduled')!;
    expect((await admin.del(`/cards/${id}/revisions/${pending.number}`)).status).toBe(204);
    const cancelled = (await admin.get('/dashboard/attention')).body.scheduled;
    expect(cancelled.items.map((item: { cardId: string }) => item.cardId)).not.toContain(id);
  });

  it('shows a reseller what is below it, and another reseller none of it', async () => {
    const own = (await r1.get('/dashboard/attention')).body;
    expect(own.suspended.items.map((item: { id: string }) => item.id)).toEqual([ids.hotel]);
    expect(own.creditBlocked.items.map((item: { id: string }) => item.id)).toEqual([ids.prepaid]);
    expect(own.losingCards).toEqual({ total: 0, items: [] });
    expect(own.scheduled).toEqual({ total: 0, items: [] });
    const other = (await r2.get('/dashboard/attention')).body;
    expect(other).toEqual({
      losingCards: { total: 0, items: [] },
      suspended: { total: 0, items: [] },
      creditBlocked: { total: 0, items: [] },
      scheduled: { total: 0, items: [] },
      unrated: { total: 0, items: [] },
    });
  });

  it('names an account out of credit under a suspended one as suspended only', async () => {
    const gone = await admin.post('/resellers', { name: 'Gone', email: 'gone@att.test' });
    const dry = await admin.post('/customers', {
      name: 'Dry below Gone',
      parentId: gone.body.id,
      creditLimit: '0',
    });
    expect(dry.status).toBe(201);
    const named = async () =>
      (await admin.get('/dashboard/attention')).body.creditBlocked.items.map(
        (item: { name: string }) => item.name,
      );
    expect(await named()).toEqual(['Cafe Prepaid', 'Dry below Gone']);
    const suspended = await admin.patch(`/resellers/${gone.body.id}`, {
      version: gone.body.version,
      status: 'suspended',
    });
    expect(suspended.status).toBe(200);
    expect(await named()).toEqual(['Cafe Prepaid']);
  });

  it('has nothing to name to a customer: it owns no card and has nothing below it', async () => {
    const desk = await admin.post('/customers', { name: 'Beach Bar', parentId: ids.r1 });
    expect(desk.status).toBe(201);
    const group = (await admin.post('/groups', { template: 'default-customer' })).body.id;
    const made = await admin.post('/users', {
      email: 'desk@beach.att.test',
      password: PASSWORD,
      accountId: desk.body.id,
      groupId: group,
    });
    expect(made.status).toBe(201);
    const customer = await apiClient(suite.server.url, 'desk@beach.att.test', PASSWORD);
    const seen = await customer.get('/dashboard/attention');
    expect(seen.status).toBe(200);
    expect(seen.body).toEqual({
      losingCards: null,
      suspended: null,
      creditBlocked: null,
      scheduled: null,
      unrated: null,
    });
  });

  it('counts the calls left unrated below the viewer by reason, a sibling’s none', async () => {
    const call = (accountId: string, n: number) => ({
      id: `attention-${accountId}-${n}`,
      accountId,
      number: '441234567',
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      seconds: 30,
    });
    // Cafe Prepaid is out of credit; Hotel Alpine is suspended (since the file's start: a
    // call is judged by its start, so its call starts now). A call made while suspended
    // stays unrated for good (no fix charges it): nothing to act on, so not counted.
    const posted = await admin.post('/usage', {
      records: [
        call(ids.prepaid, 1),
        call(ids.prepaid, 2),
        { ...call(ids.hotel, 1), startedAt: new Date().toISOString() },
      ],
    });
    expect(posted.status).toBe(200);
    expect(posted.body.unrated).toBe(3);
    const unrated = { total: 2, items: [{ reason: 'credit_blocked', calls: 2 }] };
    expect((await admin.get('/dashboard/attention')).body.unrated).toEqual(unrated);
    expect((await r1.get('/dashboard/attention')).body.unrated).toEqual(unrated);
    // A late call from before its customer's transfer is unrated `moved` for good (no
    // re-rate takes it): nothing to act on, so not counted.
    const me = (await admin.get('/me')).body.account.id as string;
    const moving = await admin.post('/customers', { name: 'Moving', parentId: ids.r2 });
    expect(
      (
        await admin.post(`/customers/${moving.body.id}/transfer`, {
          toParentId: me,
          cardId: ids.retail,
        })
      ).status,
    ).toBe(200);
    const late = await admin.post('/usage', {
      records: [
        {
          ...call(moving.body.id, 1),
          startedAt: new Date(Date.now() - 3_600_000).toISOString(),
        },
      ],
    });
    expect(late.body.unratedByReason).toEqual({ moved: 1 });
    expect((await admin.get('/dashboard/attention')).body.unrated).toEqual(unrated);
    expect((await r2.get('/dashboard/attention')).body.unrated).toEqual({ total: 0, items: [] });
    // No usage:read, no count.
    const blind = (await admin.post('/groups', { name: 'No usage', grants: ['cards:read'] })).body;
    const made = await admin.post('/users', {
      email: 'blind@att.test',
      password: PASSWORD,
      accountId: me,
      groupId: blind.id,
    });
    expect(made.status).toBe(201);
    const noUsage = await apiClient(suite.server.url, 'blind@att.test', PASSWORD);
    expect((await noUsage.get('/dashboard/attention')).body.unrated).toBeNull();
  });
});
