import { beforeAll, describe, expect, it } from 'vitest';
import type { TExposureRow } from '@/lib/shared/schemas/dashboard';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * The exposure dashboard (issue 17): `GET /dashboard/exposure` lists the accounts
 * directly below the caller's with their balance, limit, available credit and block —
 * the carrier its resellers (and own customers), a reseller its customers and
 * sub-resellers — never a sibling's; sorted and keyset-paged on the server.
 */
const ADMIN = { email: 'admin@exposure.test', password: 'exposure-admin-pass' };
const PASSWORD = 'exposure-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
const ids = {} as Record<'A' | 'B' | 'C' | 'D' | 'X' | 'A1' | 'KA1' | 'KA2' | 'KB1', string>;

async function pay(accountId: string, amount: string) {
  const paid = await admin.post(`/accounts/${accountId}/payments`, {
    amount,
    idempotencyKey: `pay-${accountId}-${amount}`,
  });
  expect(paid.status).toBe(201);
}

async function all(client: TApiClient, sort: string, limit: number): Promise<TExposureRow[]> {
  const rows: TExposureRow[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { items: TExposureRow[]; nextCursor: string | null } } =
      await client.get(
        `/dashboard/exposure?sort=${sort}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      );
    expect(page.status).toBe(200);
    rows.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return rows;
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  const reseller = async (name: string, body: Record<string, unknown> = {}) =>
    (await admin.post('/resellers', { name, email: `${name}@exp.test`, ...body })).body.id;
  ids.A = await reseller('A', { creditLimit: '100' });
  ids.B = await reseller('B', { creditLimit: '50' });
  ids.C = await reseller('C');
  ids.D = await reseller('D', { creditLimit: '0' });
  ids.A1 = await reseller('A1', { parentId: ids.A, creditLimit: '5' });
  const customer = async (name: string, body: Record<string, unknown> = {}) =>
    (await admin.post('/customers', { name, ...body })).body.id;
  ids.X = await customer('X', { creditLimit: '10' });
  ids.KA1 = await customer('KA1', { parentId: ids.A, creditLimit: '30' });
  ids.KA2 = await customer('KA2', { parentId: ids.A });
  ids.KB1 = await customer('KB1', { parentId: ids.B, creditLimit: '1' });
  await pay(ids.A, '20');
  await pay(ids.B, '5');
  await pay(ids.KA2, '7.5');
  for (const [account, email] of [
    [ids.A, 'ops@a.exp.test'],
    [ids.B, 'ops@b.exp.test'],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId: account,
      groupId: group,
    });
    expect(made.status).toBe(201);
  }
  r1 = await apiClient(suite.server.url, 'ops@a.exp.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@b.exp.test', PASSWORD);
});

describe('GET /dashboard/exposure', () => {
  it('gives the carrier its direct accounts, the most exposed first', async () => {
    const answer = await admin.get('/dashboard/exposure');
    expect(answer.status).toBe(200);
    const rows = answer.body.items as TExposureRow[];
    expect(answer.body.total).toBe(5);
    // D (limit 0) has nothing left; C has no limit, so it can never run out: last.
    expect(rows.map((row) => row.id)).toEqual([ids.D, ids.X, ids.B, ids.A, ids.C]);
    expect(rows.find((row) => row.id === ids.A)).toEqual({
      id: ids.A,
      kind: 'reseller',
      name: 'A',
      currency: 'EUR',
      balance: '20.000000',
      creditLimit: '100.000000',
      available: '120.000000',
      warningThreshold: null,
      creditBlocked: false,
      creditBlock: null,
    });
    expect(rows.find((row) => row.id === ids.D)).toMatchObject({
      available: '0.000000',
      creditBlocked: true,
      creditBlock: 'own',
    });
    expect(rows.find((row) => row.id === ids.C)).toMatchObject({ creditLimit: null });
  });

  it('sorts by available, balance and limit, either way, and pages through all', async () => {
    const byAvailable = await all(admin, '-available', 2);
    // Most available first: C, whose credit has no bound, before every limited one.
    expect(byAvailable.map((row) => row.id).slice(0, 4)).toEqual([ids.C, ids.A, ids.B, ids.X]);
    expect(byAvailable).toHaveLength(5);
    const byBalance = await all(admin, 'balance', 2);
    expect(byBalance.map((row) => row.balance)).toEqual([
      '0.000000',
      '0.000000',
      '0.000000',
      '5.000000',
      '20.000000',
    ]);
    // No limit sorts last ascending and first descending, through the pages.
    const byLimit = await all(admin, 'limit', 2);
    expect(byLimit.map((row) => row.id)).toEqual([ids.D, ids.X, ids.B, ids.A, ids.C]);
    const byLimitDesc = await all(admin, '-limit', 1);
    expect(byLimitDesc.map((row) => row.id)).toEqual([ids.C, ids.A, ids.B, ids.X, ids.D]);
    for (const sort of ['available', '-balance']) {
      const unpaged = (await admin.get(`/dashboard/exposure?sort=${sort}&limit=500`)).body.items;
      expect((await all(admin, sort, 2)).map((row) => row.id)).toEqual(
        unpaged.map((row: TExposureRow) => row.id),
      );
    }
  });

  it('gives a reseller its own customers and sub-resellers, never a sibling’s', async () => {
    const mine = (await all(r1, 'available', 50)).map((row) => row.id);
    expect(mine.sort()).toEqual([ids.A1, ids.KA1, ids.KA2].sort());
    const theirs = (await all(r2, 'available', 50)).map((row) => row.id);
    expect(theirs).toEqual([ids.KB1]);
    for (const id of [ids.A, ids.B, ids.KB1, ids.X]) expect(mine).not.toContain(id);
    const kb1 = (await r2.get('/dashboard/exposure')).body.items[0] as TExposureRow;
    expect(kb1).toMatchObject({ available: '1.000000', creditBlocked: false });
  });

  it('follows a movement at once (no recomputation on read)', async () => {
    await pay(ids.D, '3');
    const d = (await admin.get('/dashboard/exposure?sort=-available&limit=500')).body.items.find(
      (row: TExposureRow) => row.id === ids.D,
    );
    expect(d).toMatchObject({ balance: '3.000000', available: '3.000000', creditBlocked: false });
  });

  it('refuses a bad sort, a bad limit and a cursor from another sort, naming the field', async () => {
    const bad = await admin.get('/dashboard/exposure?sort=name');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('sort');
    expect((await admin.get('/dashboard/exposure?limit=0')).body.error.fields).toHaveProperty(
      'limit',
    );
    const first = (await admin.get('/dashboard/exposure?sort=balance&limit=1')).body;
    const crossed = await admin.get(`/dashboard/exposure?sort=limit&cursor=${first.nextCursor}`);
    expect(crossed.status).toBe(400);
    expect(crossed.body.error.fields).toHaveProperty('cursor');
    const forged = Buffer.from(JSON.stringify(['balance', '1; drop', ids.A])).toString('base64url');
    const refused = await admin.get(`/dashboard/exposure?sort=balance&cursor=${forged}`);
    expect(refused.status).toBe(400);
  });

  it('ranks within one currency: amounts are never compared across currencies', async () => {
    // ¥50,000 owed is about €300: never "more exposed" than €20,000 owed.
    const owing = async (name: string, currency: string, amount: string) => {
      const id = (await admin.post('/customers', { name, currency })).body.id;
      const debited = await admin.post(`/accounts/${id}/adjustments`, {
        kind: 'adjustment',
        amount,
        reason: 'Opening debt',
        idempotencyKey: `owing-${name}`,
      });
      expect(debited.status).toBe(201);
      return id;
    };
    const yen = await owing('Owes yen', 'JPY', '-50000');
    const euro = await owing('Owes euro', 'EUR', '-20000');
    const mixed = await admin.get('/dashboard/exposure?sort=balance');
    expect(mixed.body.currencies).toEqual(['EUR', 'JPY']);
    const inEuro = await admin.get('/dashboard/exposure?sort=balance&currency=EUR');
    expect(inEuro.status).toBe(200);
    expect(inEuro.body.items[0].id).toBe(euro);
    expect(new Set(inEuro.body.items.map((row: TExposureRow) => row.currency))).toEqual(
      new Set(['EUR']),
    );
    expect(inEuro.body.total).toBe(mixed.body.total - 1);
    expect(inEuro.body.currencies).toEqual(['EUR', 'JPY']);
    const inYen = await admin.get('/dashboard/exposure?currency=JPY');
    expect(inYen.body.items.map((row: TExposureRow) => row.id)).toEqual([yen]);
    // A reseller's page names only the currencies of its own accounts below.
    expect((await r1.get('/dashboard/exposure')).body.currencies).toEqual(['EUR']);
    const bad = await admin.get('/dashboard/exposure?currency=XYZ');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('currency');
  });
});
