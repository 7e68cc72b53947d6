import { beforeAll, describe, expect, it } from 'vitest';
import type { TTransferPreview } from '@/lib/shared/schemas/cards';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * The transfer's dry run (issue 17): `POST /customers/{id}/transfer?dryRun=true` runs the
 * transfer's checks and answers what the move would change — old card against new for a
 * sample of destinations, the currency outcome (refused or converted), balance and limit
 * after, the new card's scheduled revisions — writing nothing. Outsiders get 404.
 */
const ADMIN = { email: 'admin@dryrun.test', password: 'dryrun-admin-pass' };
const PASSWORD = 'dryrun-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
let admin: TApiClient;
let ru: TApiClient;
let r2: TApiClient;
const ids = {} as Record<'C' | 'RU' | 'R2' | 'KU' | 'oldCard' | 'newCard', string>;
const LATER = new Date(Date.now() + 10 * 86_400_000).toISOString();

async function changeLogHead(): Promise<number> {
  const [row] = await suite.orm.em
    .fork()
    .execute<{ n: string }[]>(`select count(*) as n from change_log`);
  return Number(row!.n);
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  ids.RU = (
    await admin.post('/resellers', { name: 'RU', email: 'ru@dry.test', currency: 'USD' })
  ).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@dry.test' })).body.id;
  for (const [account, email] of [
    [ids.RU, 'ops@ru.dry.test'],
    [ids.R2, 'ops@r2.dry.test'],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId: account,
      groupId: group,
    });
    expect(made.status).toBe(201);
  }
  ru = await apiClient(suite.server.url, 'ops@ru.dry.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@r2.dry.test', PASSWORD);

  ids.KU = (await ru.post('/customers', { name: 'KU', creditLimit: '50' })).body.id;
  ids.oldCard = (
    await ru.post('/cards', { name: 'Old USD', currency: 'USD', kind: 'customer' })
  ).body.id;
  expect(
    (
      await ru.put(`/cards/${ids.oldCard}/rates`, {
        rates: [
          { prefix: '44', destination: 'UK', rate: '0.0600' },
          {
            prefix: '49',
            destination: 'Germany',
            rate: '0.0400',
            initialIncrement: 30,
            increment: 6,
          },
          { prefix: '33', destination: 'France', rate: '0.0500', connectionFee: '0.0100' },
        ],
      })
    ).status,
  ).toBe(200);
  expect((await ru.post('/assignments', { cardId: ids.oldCard, accountId: ids.KU })).status).toBe(
    201,
  );
  ids.newCard = (
    await admin.post('/cards', { name: 'New EUR', currency: 'EUR', kind: 'customer' })
  ).body.id;
  expect(
    (
      await admin.put(`/cards/${ids.newCard}/rates`, {
        rates: [
          { prefix: '4', destination: 'Europe', rate: '0.0900' },
          { prefix: '447', destination: 'UK mobile', rate: '0.1200' },
          // Billed two minutes at least: a 60 s call costs 0.0600.
          { prefix: '49', destination: 'Germany', rate: '0.0300', minimumSeconds: 120 },
        ],
      })
    ).status,
  ).toBe(200);
  const scheduled = await admin.put(`/cards/${ids.newCard}/rates`, {
    liveAt: LATER,
    rates: [
      { prefix: '4', destination: 'Europe', rate: '0.0950' },
      { prefix: '49', destination: 'Germany', rate: '0.0300' },
    ],
  });
  expect(scheduled.status).toBe(200);
  expect(
    (
      await admin.post(`/accounts/${ids.KU}/payments`, {
        amount: '10.25',
        idempotencyKey: 'dry-run-payment-1',
      })
    ).status,
  ).toBe(201);
});

describe('POST /customers/{id}/transfer?dryRun=true', () => {
  it('reports a currency change without a rate as refused, and writes nothing', async () => {
    const before = (await admin.get(`/customers/${ids.KU}`)).body;
    const head = await changeLogHead();
    const answer = await admin.post(`/customers/${ids.KU}/transfer?dryRun=true`, {
      toParentId: ids.C,
      cardId: ids.newCard,
    });
    expect(answer.status).toBe(200);
    const preview = answer.body as TTransferPreview;
    expect(preview).toMatchObject({
      dryRun: true,
      customerId: ids.KU,
      from: {
        parentId: ids.RU,
        parentName: 'RU',
        card: { id: ids.oldCard, name: 'Old USD', currency: 'USD' },
      },
      to: { parentId: ids.C, card: { id: ids.newCard, currency: 'EUR' } },
      currency: { outcome: 'refused', from: 'USD', to: 'EUR', rate: null },
      balance: { outcome: 'kept', from: '10.250000', to: null },
      creditLimit: { from: '50.000000', to: null },
    });
    // The real transfer agrees.
    const real = await admin.post(`/customers/${ids.KU}/transfer`, {
      toParentId: ids.C,
      cardId: ids.newCard,
    });
    expect(real.status).toBe(409);
    expect(await changeLogHead()).toBe(head);
    expect((await admin.get(`/customers/${ids.KU}`)).body).toEqual(before);
  });

  it('compares the cards, converts at the rate and lists the scheduled revisions', async () => {
    const head = await changeLogHead();
    const answer = await admin.post(`/customers/${ids.KU}/transfer?dryRun=true`, {
      toParentId: ids.C,
      cardId: ids.newCard,
      rate: '0.9',
    });
    expect(answer.status).toBe(200);
    const preview = answer.body as TTransferPreview;
    expect(preview.currency).toEqual({ outcome: 'converted', from: 'USD', to: 'EUR', rate: '0.9' });
    expect(preview.balance).toEqual({ outcome: 'converted', from: '10.250000', to: '9.225000' });
    expect(preview.creditLimit).toEqual({ from: '50.000000', to: '45.000000' });
    // The old card's destinations, each priced on both (the longest prefix of each).
    expect(preview.samples).toEqual([
      {
        prefix: '33',
        destination: 'France',
        old: { prefix: '33', rate: '0.0500', price60: '0.0600', margin60: null, billing: '60/60' },
        new: null,
      },
      {
        prefix: '49',
        destination: 'Germany',
        old: { prefix: '49', rate: '0.0400', price60: '0.0400', margin60: null, billing: '30/6' },
        new: { prefix: '49', rate: '0.0300', price60: '0.0600', margin60: null, billing: '60/60' },
      },
      {
        prefix: '44',
        destination: 'UK',
        old: { prefix: '44', rate: '0.0600', price60: '0.0600', margin60: null, billing: '60/60' },
        new: { prefix: '4', rate: '0.0900', price60: '0.0900', margin60: null, billing: '60/60' },
      },
    ]);
    expect(preview.scheduledRevisions).toHaveLength(1);
    expect(preview.scheduledRevisions[0]).toMatchObject({ liveAt: LATER, increased: 1 });
    expect(preview.ratesWithheld).toBe(false);
    expect(await changeLogHead()).toBe(head);
    const ledger = (await admin.get(`/accounts/${ids.KU}/ledger`)).body.items;
    expect(ledger).toHaveLength(1);
  });

  it('compares no rates for a caller without rates:read, as the rates and margin refuse it', async () => {
    // A carrier user who may move customers and their money, and see cards, not rates.
    const group = await admin.post('/groups', {
      name: 'Movers',
      grants: ['customers:read', 'customers:update', 'cards:read', 'payments:create'],
    });
    expect(group.status).toBe(201);
    const made = await admin.post('/users', {
      email: 'mover@dry.test',
      password: PASSWORD,
      accountId: ids.C,
      groupId: group.body.id,
    });
    expect(made.status).toBe(201);
    const mover = await apiClient(suite.server.url, 'mover@dry.test', PASSWORD);
    expect((await mover.get(`/cards/${ids.newCard}/rates`)).status).toBe(403);
    expect((await mover.get(`/cards/${ids.oldCard}/margin`)).status).toBe(403);
    const answer = await mover.post(`/customers/${ids.KU}/transfer?dryRun=true`, {
      toParentId: ids.C,
      cardId: ids.newCard,
      rate: '0.9',
    });
    expect(answer.status).toBe(200);
    const preview = answer.body as TTransferPreview;
    // The move itself is told in full; the cards' prices and revisions are not.
    expect(preview).toMatchObject({
      to: { card: { id: ids.newCard, name: 'New EUR' } },
      balance: { outcome: 'converted', from: '10.250000', to: '9.225000' },
      ratesWithheld: true,
      samples: [],
      scheduledRevisions: [],
      // Nor its calls: the group does not read usage.
      unratedCalls: null,
    });
  });

  it('counts the calls still waiting for a fix, which the move leaves never charged', async () => {
    const dry = () =>
      admin.post(`/customers/${ids.KU}/transfer?dryRun=true`, {
        toParentId: ids.C,
        cardId: ids.newCard,
        rate: '0.9',
      });
    const before = (await dry()).body as TTransferPreview;
    // A call to a number its cards do not price: unrated, waiting for a fix.
    const posted = await admin.post('/usage', {
      records: [
        {
          id: 'dry-unrouted',
          accountId: ids.KU,
          number: '8881234567',
          startedAt: new Date().toISOString(),
          seconds: 30,
        },
      ],
    });
    expect(posted.body.records[0], JSON.stringify(posted.body.records[0])).toMatchObject({
      outcome: 'unrated',
    });
    const after = (await dry()).body as TTransferPreview;
    expect(after.unratedCalls).toBe((before.unratedCalls ?? 0) + 1);
  });

  it('runs the transfer’s checks: bad input 400, outsiders 404', async () => {
    const bad = await admin.post(`/customers/${ids.KU}/transfer?dryRun=maybe`, {
      toParentId: ids.C,
      cardId: ids.newCard,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('dryRun');
    const sameParent = await admin.post(`/customers/${ids.KU}/transfer?dryRun=true`, {
      toParentId: ids.RU,
      cardId: ids.oldCard,
    });
    expect(sameParent.status).toBe(400);
    expect(sameParent.body.error.fields).toHaveProperty('toParentId');
    // A sibling reseller sees neither the customer nor the cards.
    const outsider = await r2.post(`/customers/${ids.KU}/transfer?dryRun=true`, {
      toParentId: ids.R2,
      cardId: ids.newCard,
    });
    expect(outsider.status).toBe(404);
  });

  it('refuses a working customer under a suspended reseller, dry run or not, moving nothing', async () => {
    const card = await r2.post('/cards', { name: 'R2 retail', currency: 'EUR', kind: 'customer' });
    expect(card.status).toBe(201);
    const r2Account = (await admin.get(`/resellers/${ids.R2}`)).body;
    const suspended = await admin.patch(`/resellers/${ids.R2}`, {
      version: r2Account.version,
      status: 'suspended',
    });
    expect(suspended.status).toBe(200);
    try {
      for (const query of ['?dryRun=true', '']) {
        const refused = await admin.post(`/customers/${ids.KU}/transfer${query}`, {
          toParentId: ids.R2,
          cardId: card.body.id,
        });
        expect([refused.status, refused.body.error]).toEqual([
          409,
          expect.objectContaining({
            code: 'target_suspended',
            fields: { toParentId: 'is suspended: the customer would stop at once' },
          }),
        ]);
      }
      const customer = (await admin.get(`/customers/${ids.KU}`)).body;
      expect(customer).toMatchObject({ parentId: ids.RU, status: 'active' });
      // Also one whose parent is blocked for credit: working, not suspended.
      const rb = await admin.post('/resellers', {
        name: 'RB',
        email: 'rb@dry.test',
        creditLimit: '0',
      });
      const blocked = await admin.post('/customers', { name: 'KB', parentId: rb.body.id });
      expect(blocked.body).toMatchObject({ status: 'active', creditBlock: 'above' });
      const refused = await admin.post(`/customers/${blocked.body.id}/transfer`, {
        toParentId: ids.R2,
        cardId: card.body.id,
      });
      expect([refused.status, refused.body.error?.code]).toEqual([409, 'target_suspended']);
    } finally {
      await admin.patch(`/resellers/${ids.R2}`, {
        version: suspended.body.version,
        status: 'active',
      });
    }
  });
});

describe('a settled balance and the margin the old parent loses', () => {
  /** RS buys "Buy EUR" from the carrier and sells "Sell EUR" (20 % on it) to KS. */
  const own = {} as Record<'RS' | 'KS' | 'buy' | 'sell', string>;
  let rs: TApiClient;

  beforeAll(async () => {
    const group = (await admin.get('/groups')).body.items.find(
      (item: { name: string }) => item.name === 'Default Reseller',
    ).id;
    own.RS = (await admin.post('/resellers', { name: 'RS', email: 'rs@dry.test' })).body.id;
    const made = await admin.post('/users', {
      email: 'ops@rs.dry.test',
      password: PASSWORD,
      accountId: own.RS,
      groupId: group,
    });
    expect(made.status).toBe(201);
    rs = await apiClient(suite.server.url, 'ops@rs.dry.test', PASSWORD);
    own.buy = (
      await admin.post('/cards', { name: 'Buy EUR', currency: 'EUR', kind: 'customer' })
    ).body.id;
    const rates = [{ prefix: '44', destination: 'UK', rate: '0.0500' }];
    expect((await admin.put(`/cards/${own.buy}/rates`, { rates })).status).toBe(200);
    expect((await admin.post('/assignments', { cardId: own.buy, accountId: own.RS })).status).toBe(
      201,
    );
    const derived = await rs.post(`/cards/${own.buy}/derive`, {
      name: 'Sell EUR',
      markupPercent: '20',
    });
    expect(derived.status).toBe(201);
    own.sell = derived.body.id;
    own.KS = (await rs.post('/customers', { name: 'KS' })).body.id;
    expect((await rs.post('/assignments', { cardId: own.sell, accountId: own.KS })).status).toBe(
      201,
    );
    const paid = await rs.post(`/accounts/${own.KS}/payments`, {
      amount: '7.5',
      idempotencyKey: 'dry-run-settle-1',
    });
    expect(paid.status).toBe(201);
  });

  it('names the old parent’s margin per sample and a settled balance, writing nothing', async () => {
    const head = await changeLogHead();
    const answer = await admin.post(`/customers/${own.KS}/transfer?dryRun=true`, {
      toParentId: ids.C,
      cardId: ids.newCard,
      balance: 'settle',
    });
    expect(answer.status).toBe(200);
    const preview = answer.body as TTransferPreview;
    expect(preview.balance).toEqual({ outcome: 'settled', from: '7.500000', to: '0.000000' });
    // Up to the carrier: RS is out of KS's chain, and what it earned on KS is lost.
    expect(preview.to.belowOldParent).toBe(false);
    expect(preview.samples).toEqual([
      {
        prefix: '44',
        destination: 'UK',
        // 0.0600 sold against 0.0500 bought: RS stops earning 0.0100 a minute on KS.
        old: {
          prefix: '44',
          rate: '0.0600',
          price60: '0.0600',
          margin60: '0.0100',
          billing: '60/60',
        },
        new: { prefix: '4', rate: '0.0900', price60: '0.0900', margin60: null, billing: '60/60' },
      },
    ]);
    expect(await changeLogHead()).toBe(head);
  });

  it('says the old parent stays in the chain when the customer moves below it', async () => {
    // RS2 sits under RS and buys RS's "Sell EUR": moved there, KS's calls still pass
    // through RS, which goes on earning on them.
    const rs2 = (await rs.post('/resellers', { name: 'RS2', email: 'rs2@dry.test' })).body.id;
    const group = (await admin.get('/groups')).body.items.find(
      (item: { name: string }) => item.name === 'Default Reseller',
    ).id;
    const made = await admin.post('/users', {
      email: 'ops@rs2.dry.test',
      password: PASSWORD,
      accountId: rs2,
      groupId: group,
    });
    expect(made.status).toBe(201);
    expect((await rs.post('/assignments', { cardId: own.sell, accountId: rs2 })).status).toBe(201);
    const rs2Client = await apiClient(suite.server.url, 'ops@rs2.dry.test', PASSWORD);
    const card = await rs2Client.post(`/cards/${own.sell}/derive`, {
      name: 'RS2 Sell',
      markupPercent: '10',
    });
    expect(card.status).toBe(201);
    const head = await changeLogHead();
    const answer = await rs.post(`/customers/${own.KS}/transfer?dryRun=true`, {
      toParentId: rs2,
      cardId: card.body.id,
    });
    expect(answer.status).toBe(200);
    const preview = answer.body as TTransferPreview;
    expect(preview.to).toMatchObject({ parentId: rs2, belowOldParent: true });
    expect(preview.samples[0]).toMatchObject({
      old: { price60: '0.0600', margin60: '0.0100' },
      new: { price60: '0.0660', margin60: '0.0060' },
    });
    expect(await changeLogHead()).toBe(head);
  });

  it('settles on the old parent’s books with one adjustment, then moves', async () => {
    const bad = await admin.post(`/customers/${own.KS}/transfer`, {
      toParentId: ids.C,
      cardId: ids.newCard,
      balance: 'later',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('balance');
    const moved = await admin.post(`/customers/${own.KS}/transfer`, {
      toParentId: ids.C,
      cardId: ids.newCard,
      balance: 'settle',
      idempotencyKey: 'dry-run-settle-move',
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ parentId: ids.C, balance: '0.000000' });
    const ledger = (await admin.get(`/accounts/${own.KS}/ledger`)).body.items;
    expect(ledger).toHaveLength(2);
    expect(ledger[0]).toMatchObject({
      kind: 'adjustment',
      amount: '-7.500000',
      currency: 'EUR',
      balanceAfter: '0.000000',
      counterpartyId: own.RS,
      reference: 'Transfer: balance settled with RS',
    });
    const balance = (await admin.get(`/accounts/${own.KS}/balance`)).body;
    expect(balance.balance).toBe('0.000000');
  });
});

describe('a customer its reseller suspended, moved to another', () => {
  it('is the new reseller’s to resume: the old reseller’s suspension is not held over it', async () => {
    const ks = (await ru.post('/customers', { name: 'KS', currency: 'EUR' })).body;
    const suspended = await ru.patch(`/customers/${ks.id}`, {
      version: ks.version,
      status: 'suspended',
    });
    expect(suspended.status).toBe(200);
    const card = await r2.post('/cards', { name: 'R2 for KS', currency: 'EUR', kind: 'customer' });
    expect(card.status).toBe(201);
    const moved = await admin.post(`/customers/${ks.id}/transfer`, {
      toParentId: ids.R2,
      cardId: card.body.id,
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const now = (await r2.get(`/customers/${ks.id}`)).body;
    const resumed = await r2.patch(`/customers/${ks.id}`, {
      version: now.version,
      status: 'active',
    });
    expect([resumed.status, resumed.body.status]).toEqual([200, 'active']);
  });
});
