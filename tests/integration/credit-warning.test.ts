import { beforeAll, describe, expect, it } from 'vitest';
import { resolveActor, type TActor } from '@/lib/server/authz/actor';
import { User } from '@/lib/server/entities';
import { recordMovement } from '@/lib/server/services/ledger/record-payment';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * Credit warnings (issue 17): a threshold set by the parent's side on the account PATCH;
 * a movement that takes available credit across it downward, or blocks the account for
 * credit, tells the account's own side and its parent's (people who read ledgers) once,
 * in the movement's transaction; moving back above re-arms it. A sibling hears nothing.
 */
const ADMIN = { email: 'admin@warn.test', password: 'warn-admin-pass' };
const PASSWORD = 'warn-user-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
let actor: TActor;
const ids = {} as Record<'R1' | 'R2' | 'K1', string>;

interface TNotice {
  kind: string;
  title: string;
  body: string;
  link: string | null;
  data: { accountId: string } | null;
}

async function notices(client: TApiClient, accountId: string): Promise<TNotice[]> {
  const page = await client.get('/notifications?limit=100');
  expect(page.status).toBe(200);
  return (page.body.items as TNotice[]).filter(
    (notice) => notice.kind.startsWith('account.credit_') && notice.data?.accountId === accountId,
  );
}

/** A movement by the carrier admin, as billing will post usage (negative: a debit). */
async function move(accountId: string, amount: string) {
  const em = suite.orm.em.fork();
  await recordMovement(em, actor, accountId, {
    kind: amount.startsWith('-') ? 'usage' : 'payment',
    amount,
  });
}

async function patch(path: string, body: Record<string, unknown>) {
  const current = (await admin.get(path)).body;
  return admin.patch(path, { version: current.version, ...body });
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@w.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@w.test' })).body.id;
  ids.K1 = (await admin.post('/customers', { name: 'K1', parentId: ids.R1 })).body.id;
  for (const [email, accountId] of [
    ['ops@r1.w.test', ids.R1],
    ['ops@r2.w.test', ids.R2],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId,
      groupId: group.id,
    });
    expect(made.status).toBe(201);
  }
  r1 = await apiClient(suite.server.url, 'ops@r1.w.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@r2.w.test', PASSWORD);
  const em = suite.orm.em.fork();
  const user = await em.findOneOrFail(User, { email: ADMIN.email });
  actor = (await resolveActor(em, {
    userId: user.id,
    sessionVersion: user.sessionVersion,
  })) as TActor;
});

describe('the warning threshold on the account PATCH', () => {
  it('is a decimal string in the account’s currency, or null; else 400 naming it', async () => {
    for (const bad of ['-5', 'abc', 12, '1.1234567']) {
      const refused = await patch(`/resellers/${ids.R1}`, { warningThreshold: bad });
      expect(refused.status).toBe(400);
      expect(refused.body.error.fields).toHaveProperty('warningThreshold');
    }
    const set = await patch(`/resellers/${ids.R1}`, {
      creditLimit: '100',
      warningThreshold: '30',
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ creditLimit: '100.000000', warningThreshold: '30.000000' });
    const cleared = await patch(`/resellers/${ids.R1}`, { warningThreshold: null });
    expect(cleared.body.warningThreshold).toBeNull();
    expect((await patch(`/resellers/${ids.R1}`, { warningThreshold: '30' })).status).toBe(200);
  });

  it('is set by the parent’s side only: the account itself cannot reach its own PATCH', async () => {
    const own = await r1.get(`/resellers/${ids.R1}`);
    expect(own.status).toBe(404);
  });
});

describe('crossing the threshold', () => {
  it('tells the account’s side and its parent’s once per crossing, and re-arms', async () => {
    // Available 100 → 50: above 30, nothing.
    await move(ids.R1, '-50');
    expect(await notices(r1, ids.R1)).toEqual([]);
    // 50 → 20: one crossing.
    await move(ids.R1, '-30');
    const own = await notices(r1, ids.R1);
    expect(own.map((notice) => notice.kind)).toEqual(['account.credit_warning']);
    const parent = await notices(admin, ids.R1);
    expect(parent.map((notice) => notice.kind)).toEqual(['account.credit_warning']);
    expect(parent[0]!.link).toBe(`/resellers/${ids.R1}?tab=balance`);
    // A sibling reseller hears nothing of it.
    expect(await notices(r2, ids.R1)).toEqual([]);
    // Still below: no second notice.
    await move(ids.R1, '-5');
    expect(await notices(r1, ids.R1)).toHaveLength(1);
    // Back above (55) re-arms; down again (15) is a new crossing.
    await move(ids.R1, '40');
    expect(await notices(r1, ids.R1)).toHaveLength(1);
    await move(ids.R1, '-40');
    expect(await notices(r1, ids.R1)).toHaveLength(2);
    expect(await notices(admin, ids.R1)).toHaveLength(2);
    expect(await notices(r2, ids.R1)).toEqual([]);
  });

  it('tells both sides once when the account becomes blocked for credit', async () => {
    await move(ids.R1, '-20'); // 15 → -5: blocked
    const blocked = (await notices(r1, ids.R1)).filter(
      (notice) => notice.kind === 'account.credit_blocked',
    );
    expect(blocked).toHaveLength(1);
    // Its figure as a person writes it, not at the ledger's six decimals (-5.000000).
    expect(blocked[0]!.body).toMatch(/has used up its credit: -5 [A-Z]{3} available\./);
    expect(
      (await notices(admin, ids.R1)).filter((notice) => notice.kind === 'account.credit_blocked'),
    ).toHaveLength(1);
    await move(ids.R1, '-1');
    expect(await notices(r1, ids.R1)).toHaveLength(3);
    expect(await notices(r2, ids.R1)).toEqual([]);
    await move(ids.R1, '200'); // unblocked, above again
    expect(await notices(r1, ids.R1)).toHaveLength(3);
  });

  it('a lowered credit limit crosses as a movement does; a new threshold alone does not', async () => {
    // Balance 94, limit 100: available 194. A threshold raised to 120 moves nothing.
    expect((await patch(`/resellers/${ids.R1}`, { warningThreshold: '120' })).status).toBe(200);
    expect(await notices(r1, ids.R1)).toHaveLength(3);
    // Limit 0: available 94, below 120.
    expect((await patch(`/resellers/${ids.R1}`, { creditLimit: '0' })).status).toBe(200);
    const now = await notices(r1, ids.R1);
    expect(now).toHaveLength(4);
    expect(now[0]!.kind).toBe('account.credit_warning');
  });

  it('a customer’s crossing reaches its parent reseller, not the carrier above it', async () => {
    const set = await r1.patch(`/customers/${ids.K1}`, {
      version: (await r1.get(`/customers/${ids.K1}`)).body.version,
      creditLimit: '10',
      warningThreshold: '5',
    });
    expect(set.status).toBe(200);
    await move(ids.K1, '-6');
    const toParent = await notices(r1, ids.K1);
    expect(toParent.map((notice) => notice.kind)).toEqual(['account.credit_warning']);
    expect(toParent[0]!.link).toBe(`/customers/${ids.K1}?tab=balance`);
    expect(await notices(admin, ids.K1)).toEqual([]);
    expect(await notices(r2, ids.K1)).toEqual([]);
  });
});

describe('a credit notice is read only while its reader reads the account', () => {
  it('is not shown to the old side once the customer moved to another reseller', async () => {
    // K1's crossing above told R1's people; the carrier then moves K1 under R2.
    expect((await notices(r1, ids.K1)).map((notice) => notice.kind)).toEqual([
      'account.credit_warning',
    ]);
    const unread = (await r1.get('/notifications')).body.unread as number;
    const card = await r2.post('/cards', { name: 'R2 Retail', currency: 'EUR', kind: 'customer' });
    expect(card.status).toBe(201);
    const moved = await admin.post(`/customers/${ids.K1}/transfer`, {
      toParentId: ids.R2,
      cardId: card.body.id,
      idempotencyKey: 'warn-move-k1',
    });
    expect(moved.status).toBe(200);
    expect((await r1.get(`/customers/${ids.K1}`)).status).toBe(404);
    expect(await notices(r1, ids.K1)).toEqual([]);
    // Nor counted among its unread.
    expect((await r1.get('/notifications')).body.unread).toBe(unread - 1);
    // Its new side was never told of the old crossing.
    expect(await notices(r2, ids.K1)).toEqual([]);
  });

  it('names the account only to those who may read it: a reader of ledgers alone is not told', async () => {
    const carrierId = (await admin.get('/me')).body.account.id as string;
    const group = await admin.post('/groups', { name: 'Ledgers only', grants: ['ledger:read'] });
    expect(group.status).toBe(201);
    const made = await admin.post('/users', {
      email: 'books@w.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: group.body.id,
    });
    expect(made.status).toBe(201);
    const books = await apiClient(suite.server.url, 'books@w.test', PASSWORD);
    const customer = (await admin.post('/customers', { name: 'Confidential Hospital' })).body.id;
    expect(
      (await patch(`/customers/${customer}`, { creditLimit: '10', warningThreshold: '5' })).status,
    ).toBe(200);
    // Everywhere else this person meets the customer by id only.
    expect((await books.get(`/customers/${customer}`)).status).toBe(403);
    await move(customer, '-6');
    expect(await notices(books, customer)).toEqual([]);
    // The carrier's admin, who reads customers, is told.
    expect((await notices(admin, customer)).map((notice) => notice.title)).toEqual([
      'Confidential Hospital is low on credit',
    ]);
  });
});
