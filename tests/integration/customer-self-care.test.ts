import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Account, CardAssignment, Group, User } from '@/lib/server/entities';
import { DEFAULT_CUSTOMER_GRANTS, DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import type { TLedgerEntryDto } from '@/lib/shared/schemas/ledger';
import { UPSTREAM_ACTOR } from '@/lib/server/authz/actor-name';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { ASSIGNEE_VIEW_KEYS } from '../fixtures/cards';
import { connectLiveClient, until, type TLiveClient } from '../fixtures/live-client';

/**
 * Customer self-care (issue 19): a customer's people sign in with a group from the
 * Default Customer template and see their own account — its balance and ledger, the
 * card assigned to it as its holder (its sell prices, never the card above it), its
 * users — live, and nothing of a sibling customer or of the reseller above it. The
 * subset rule holds for customer groups as for any other; a reseller's support user
 * views as a customer user read-only.
 */
const ADMIN = { email: 'admin@self.test', password: 'self-care-admin-pass' };
const PASSWORD = 'self-care-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

const BUY_RATES = [
  { prefix: '44', destination: 'United Kingdom', rate: '0.0100' },
  { prefix: '49', destination: 'Germany', rate: '0.0200' },
];

let admin: TApiClient;
let reseller: TApiClient;
let k1: TApiClient;
const ids = {} as Record<
  | 'R'
  | 'R2'
  | 'K1'
  | 'K2'
  | 'KX'
  | 'wholesale'
  | 'retail'
  | 'customerGroup'
  | 'resellerGroup'
  | 'k1User'
  | 'k2User'
  | 'rUser'
  | 'kxUser',
  string
>;
const live: TLiveClient[] = [];

async function newUser(client: TApiClient, email: string, accountId: string, groupId: string) {
  const made = await client.post('/users', { email, password: PASSWORD, accountId, groupId });
  expect([email, made.status]).toEqual([email, 201]);
  return made.body.id as string;
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.resellerGroup = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  // A reseller whose people may also view as their customers' users.
  const resellerSupport = (
    await admin.post('/groups', {
      name: 'Reseller support',
      grants: [...DEFAULT_RESELLER_GRANTS, 'impersonation:start'],
    })
  ).body.id;
  ids.R = (await admin.post('/resellers', { name: 'Acme', email: 'ops@acme.self' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'Beta', email: 'ops@beta.self' })).body.id;
  ids.rUser = await newUser(admin, 'ops@acme.self', ids.R, resellerSupport);
  await newUser(admin, 'ops@beta.self', ids.R2, ids.resellerGroup);
  reseller = await apiClient(suite.server.url, 'ops@acme.self', PASSWORD);

  ids.wholesale = (
    await admin.post('/cards', { name: 'Wholesale', currency: 'EUR', kind: 'customer' })
  ).body.id;
  expect((await admin.put(`/cards/${ids.wholesale}/rates`, { rates: BUY_RATES })).status).toBe(200);
  expect(
    (await admin.post('/assignments', { cardId: ids.wholesale, accountId: ids.R })).status,
  ).toBe(201);
  ids.retail = (
    await reseller.post(`/cards/${ids.wholesale}/derive`, {
      name: 'Acme retail',
      markupPercent: '50',
    })
  ).body.id;
  ids.K1 = (
    await reseller.post('/customers', { name: 'Hotel Alpine', creditLimit: '100' })
  ).body.id;
  ids.K2 = (await reseller.post('/customers', { name: 'Hotel Beach' })).body.id;
  ids.KX = (await admin.post('/customers', { name: 'Beta client', parentId: ids.R2 })).body.id;
  expect(
    (await reseller.post('/assignments', { cardId: ids.retail, accountId: ids.K1 })).status,
  ).toBe(201);

  // The reseller makes the Default Customer group for its customers (a subset of its own).
  const template = await reseller.post('/groups', { template: 'default-customer' });
  expect(template.status).toBe(201);
  expect(template.body).toMatchObject({ name: 'Default Customer' });
  expect([...template.body.grants].sort()).toEqual([...DEFAULT_CUSTOMER_GRANTS].sort());
  ids.customerGroup = template.body.id;
  ids.k1User = await newUser(reseller, 'desk@alpine.self', ids.K1, ids.customerGroup);
  ids.k2User = await newUser(reseller, 'desk@beach.self', ids.K2, ids.customerGroup);
  const kxGroup = (await admin.post('/groups', { template: 'default-customer' })).body.id;
  ids.kxUser = await newUser(admin, 'desk@betaclient.self', ids.KX, kxGroup);
  k1 = await apiClient(suite.server.url, 'desk@alpine.self', PASSWORD);
});

afterAll(() => {
  for (const client of live) client.close();
});

describe('customer self-care: what a customer user sees', () => {
  it('signs in as its customer account with the Default Customer grants', async () => {
    const me = (await k1.get('/me')).body;
    expect(me.account).toMatchObject({ id: ids.K1, kind: 'customer', name: 'Hotel Alpine' });
    expect([...me.grants].sort()).toEqual([...DEFAULT_CUSTOMER_GRANTS].sort());
  });

  it('sees its assigned card as its holder: sell prices, never the card above it', async () => {
    const cards = (await k1.get('/cards')).body.items;
    expect(cards.map((card: { id: string }) => card.id)).toEqual([ids.retail]);
    expect(Object.keys(cards[0]).sort()).toEqual([...ASSIGNEE_VIEW_KEYS].sort());
    expect(cards[0].relation).toBe('assigned');

    const rates = (await k1.get(`/cards/${ids.retail}/rates`)).body.items;
    const sell = (await reseller.get(`/cards/${ids.retail}/rates`)).body.items;
    expect(rates.map((r: { prefix: string; rate: string }) => [r.prefix, r.rate])).toEqual(
      sell.map((r: { prefix: string; rate: string }) => [r.prefix, r.rate]),
    );
    expect(rates.map((r: { rate: string }) => r.rate)).toEqual(['0.0150', '0.0300']);
    const csv = await k1.raw('GET', `/cards/${ids.retail}/rates/export`);
    expect(csv.status).toBe(200);
    expect(csv.text).toContain('0.015');
    expect(csv.text).toContain('0.0150');
    expect(csv.text).not.toContain('0.0100');

    // The card above (the reseller's buy price) is outside, as is every lookup level above.
    expect((await k1.get(`/cards/${ids.wholesale}`)).status).toBe(404);
    expect((await k1.get(`/cards/${ids.wholesale}/rates`)).status).toBe(404);
    const lookup = await k1.get(`/rates/lookup?accountId=${ids.K1}&number=441234567`);
    expect(lookup.status).toBe(200);
    expect(lookup.body.levels.map((l: { cardId: string }) => l.cardId)).toEqual([ids.retail]);
    expect(JSON.stringify(lookup.body)).not.toContain(ids.wholesale);
    expect(JSON.stringify(lookup.body)).not.toContain('"0.0100');
  });

  it('reads its own balance and ledger, with the payment its reseller recorded', async () => {
    const paid = await reseller.post(`/accounts/${ids.K1}/payments`, {
      amount: '25.50',
      idempotencyKey: 'alpine-first',
    });
    expect(paid.status).toBe(201);
    expect((await k1.get(`/accounts/${ids.K1}/balance`)).body).toMatchObject({
      balance: '25.500000',
      creditLimit: '100.000000',
    });
    const ledger = (await k1.get(`/accounts/${ids.K1}/ledger`)).body.items;
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ kind: 'payment', amount: '25.500000' });
    expect((await k1.get('/usage')).status).toBe(200);
  });

  it('gets 404 on a sibling customer and on the reseller, 403 where it holds no grant', async () => {
    for (const account of [ids.K2, ids.R, ids.KX]) {
      expect([account, (await k1.get(`/accounts/${account}/balance`)).status]).toEqual([
        account,
        404,
      ]);
      expect([account, (await k1.get(`/accounts/${account}/ledger`)).status]).toEqual([
        account,
        404,
      ]);
      expect([account, (await k1.get(`/usage?accountId=${account}`)).status]).toEqual([
        account,
        404,
      ]);
      // A list filtered to an account outside holds nothing (the scope is in the query).
      expect([account, (await k1.get(`/users?accountId=${account}`)).body.items]).toEqual([
        account,
        [],
      ]);
      const lookup = await k1.get(`/rates/lookup?accountId=${account}&number=44123`);
      expect([account, lookup.status]).toEqual([account, 404]);
    }
    for (const user of [ids.k2User, ids.rUser, ids.kxUser]) {
      expect((await k1.get(`/users/${user}`)).status).toBe(404);
    }
    // Lists hold its own account's people and nothing else; no sub-accounts at all.
    const people = (await k1.get('/users')).body.items;
    expect(people.map((u: { id: string }) => u.id)).toEqual([ids.k1User]);
    for (const path of [
      '/customers',
      '/resellers',
      `/customers/${ids.K2}`,
      `/resellers/${ids.R}`,
    ]) {
      expect([path, (await k1.get(path)).status]).toEqual([path, 403]);
    }
  });

  it('manages its colleagues with its own group, and makes nothing else', async () => {
    const before = await suite.orm.em.fork().count(Account, {});
    const colleague = await k1.post('/users', {
      email: 'night@alpine.self',
      password: PASSWORD,
      accountId: ids.K1,
      groupId: ids.customerGroup,
    });
    expect(colleague.status).toBe(201);
    // Never in a sibling, never with the reseller's richer group.
    const sibling = await k1.post('/users', {
      email: 'x@beach.self',
      password: PASSWORD,
      accountId: ids.K2,
      groupId: ids.customerGroup,
    });
    expect(sibling.status).toBe(404);
    const richer = await k1.post('/users', {
      email: 'y@alpine.self',
      password: PASSWORD,
      accountId: ids.K1,
      groupId: ids.resellerGroup,
    });
    // Its reseller's group holds more than it does: one it cannot see, so not found.
    expect(richer.status).toBe(404);
    expect(richer.body.error.code).toBe('not_found');
    for (const [path, body] of [
      ['/customers', { name: 'Sub' }],
      ['/resellers', { name: 'Sub', email: 'sub@alpine.self' }],
      ['/cards', { name: 'Mine', currency: 'EUR', kind: 'customer' }],
      ['/groups', { template: 'default-customer' }],
    ] as const) {
      expect([path, (await k1.post(path, body)).status]).toEqual([path, 403]);
    }
    expect(await suite.orm.em.fork().count(Account, {})).toBe(before);
    expect(
      await suite.orm.em.fork().count(User, { email: { $in: ['x@beach.self', 'y@alpine.self'] } }),
    ).toBe(0);
  });
});

describe('a customer with people of its own', () => {
  it('is not transferred: 409 naming them, and nothing moves', async () => {
    // A transfer moves the account alone; its users would stay on the old side's screens.
    const carrierId = (await admin.get('/me')).body.account.id as string;
    const move = { toParentId: carrierId, cardId: ids.wholesale };
    for (const path of [
      `/customers/${ids.K1}/transfer?dryRun=true`,
      `/customers/${ids.K1}/transfer`,
    ]) {
      const refused = await admin.post(path, move);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('has_dependants');
      expect(refused.body.error.dependants).toContainEqual({
        resource: 'users',
        id: ids.k1User,
        name: 'desk@alpine.self',
      });
    }
    // To someone who may move customers but not read users: that there are some, not who.
    const movers = await admin.post('/groups', {
      name: 'Movers',
      grants: [
        'customers:read',
        'customers:update',
        'resellers:read',
        'cards:read',
        'payments:create',
      ],
    });
    expect(movers.status).toBe(201);
    await newUser(admin, 'mover@carrier.self', carrierId, movers.body.id);
    const mover = await apiClient(suite.server.url, 'mover@carrier.self', PASSWORD);
    const blind = await mover.post(`/customers/${ids.K1}/transfer?dryRun=true`, move);
    expect([blind.status, blind.body.error?.code]).toEqual([409, 'has_dependants']);
    expect(blind.body.error.dependants).toContainEqual({ resource: 'users', id: '', name: '' });
    expect(JSON.stringify(blind.body)).not.toContain('desk@alpine.self');
    expect(JSON.stringify(blind.body)).not.toContain(ids.k1User);
    expect((await admin.get(`/customers/${ids.K1}`)).body.parentId).toBe(ids.R);
    // The same move of a customer without people goes through.
    const bare = (await admin.post('/customers', { name: 'Bare', parentId: ids.R })).body.id;
    const moved = await admin.post(`/customers/${bare}/transfer`, move);
    expect(moved.status).toBe(200);
    expect(moved.body.parentId).toBe(carrierId);
  });
});

describe('a customer with a brand of its own', () => {
  it('is not transferred while it has it: the new side would take the old side’s hostnames', async () => {
    const carrierId = (await admin.get('/me')).body.account.id as string;
    const branded = (await reseller.post('/customers', { name: 'Harbour Inn' })).body.id as string;
    const brand = await reseller.put(`/accounts/${branded}/brand`, {
      displayName: 'Harbour Calls',
      primaryColor: '#1D4ED8',
      accentColor: '#0369a1',
      supportEmail: 'help@harbour.self',
      supportUrl: 'https://help.harbour.self/',
      hostnames: ['calls.harbour.self'],
    });
    expect(brand.status).toBe(201);
    const move = { toParentId: carrierId, cardId: ids.wholesale };
    for (const path of [
      `/customers/${branded}/transfer?dryRun=true`,
      `/customers/${branded}/transfer`,
    ]) {
      const refused = await admin.post(path, move);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'has_dependants',
        dependants: [{ resource: 'brands', id: branded, name: 'Harbour Calls' }],
      });
    }
    expect((await admin.get(`/customers/${branded}`)).body.parentId).toBe(ids.R);
    // The old side removes it (freeing its hostname); then the customer moves.
    expect((await reseller.del(`/accounts/${branded}/brand`)).status).toBe(204);
    const moved = await admin.post(`/customers/${branded}/transfer`, move);
    expect(moved.status).toBe(200);
    expect(moved.body.parentId).toBe(carrierId);
  });
});

describe('a customer that derived a card from the one it holds', () => {
  it('is not given another card until the derived one goes: 409 naming it, nothing moves', async () => {
    const k3 = (await reseller.post('/customers', { name: 'Hotel Cliff' })).body.id as string;
    expect(
      (await reseller.post('/assignments', { cardId: ids.retail, accountId: k3 })).status,
    ).toBe(201);
    // A group the reseller may give (a subset of its own grants) that makes cards.
    const makers = await reseller.post('/groups', {
      name: 'Cliff makers',
      grants: [...DEFAULT_CUSTOMER_GRANTS, 'cards:create', 'cards:delete'],
      accountId: k3,
    });
    expect(makers.status).toBe(201);
    await newUser(reseller, 'make@cliff.self', k3, makers.body.id);
    const cliff = await apiClient(suite.server.url, 'make@cliff.self', PASSWORD);
    const own = await cliff.post(`/cards/${ids.retail}/derive`, {
      name: 'Cliff own',
      markupPercent: '10',
    });
    expect(own.status).toBe(201);
    const budget = await reseller.post('/cards', {
      name: 'Acme budget',
      currency: 'EUR',
      kind: 'customer',
    });
    expect(budget.status).toBe(201);
    const held = async () =>
      (await suite.orm.em.fork().find(CardAssignment, { account: k3 }, { populate: ['card'] })).map(
        (assignment) => assignment.card.id,
      );

    // Replacing its card would leave "Cliff own" following a card it no longer holds.
    const refused = await reseller.post('/assignments', { cardId: budget.body.id, accountId: k3 });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'has_dependants',
      dependants: [{ resource: 'cards', id: own.body.id, name: 'Cliff own' }],
    });
    expect(await held()).toEqual([ids.retail]);

    // Once its card is gone, the new one replaces the old.
    expect((await cliff.del(`/cards/${own.body.id}`)).status).toBe(204);
    const replaced = await reseller.post('/assignments', { cardId: budget.body.id, accountId: k3 });
    expect(replaced.status).toBe(201);
    expect(await held()).toEqual([budget.body.id]);
  });
});

describe('customer groups: no escalation', () => {
  it('a customer admin group makes and edits only subsets of its own grants', async () => {
    const adminGrants = [...DEFAULT_CUSTOMER_GRANTS, 'groups:create', 'groups:update'];
    const owned = await reseller.post('/groups', {
      name: 'Alpine admins',
      grants: adminGrants,
      accountId: ids.K1,
    });
    expect(owned.status).toBe(201);
    await newUser(reseller, 'boss@alpine.self', ids.K1, owned.body.id);
    const boss = await apiClient(suite.server.url, 'boss@alpine.self', PASSWORD);

    const groupsBefore = await suite.orm.em.fork().count(Group, {});
    const escalate = await boss.post('/groups', {
      name: 'More',
      grants: ['users:read', 'cards:create'],
    });
    expect(escalate.status).toBe(403);
    expect(escalate.body.error.code).toBe('escalation');
    const own = (await boss.get(`/groups/${owned.body.id}`)).body;
    const widen = await boss.patch(`/groups/${owned.body.id}`, {
      version: own.version,
      grants: [...adminGrants, 'customers:read'],
    });
    expect(widen.status).toBe(403);
    const elsewhere = await boss.post('/groups', {
      name: 'Beach',
      grants: ['users:read'],
      accountId: ids.K2,
    });
    expect(elsewhere.status).toBe(404);
    expect(await suite.orm.em.fork().count(Group, {})).toBe(groupsBefore);

    const readers = await boss.post('/groups', {
      name: 'Readers',
      grants: ['cards:read', 'rates:read'],
    });
    expect(readers.status).toBe(201);
    const group = await suite.orm.em
      .fork()
      .findOneOrFail(Group, { id: readers.body.id }, { populate: ['account'] });
    expect(group.account.id).toBe(ids.K1);
    // The sibling's people never see it; the reseller above does.
    const k2 = await apiClient(suite.server.url, 'desk@beach.self', PASSWORD);
    expect((await k2.get(`/groups/${readers.body.id}`)).status).toBe(404);
    expect((await reseller.get(`/groups/${readers.body.id}`)).status).toBe(200);
  });
});

describe('customer self-care: live', () => {
  it('delivers to customer users their own account, card and people, nothing else', async () => {
    const token = async (email: string) =>
      (await requestToken(suite.server.url, email, PASSWORD)).body.token as string;
    const alpine = connectLiveClient(suite.server.url, await token('desk@alpine.self'), 'K1');
    const beach = connectLiveClient(suite.server.url, await token('desk@beach.self'), 'K2');
    live.push(alpine, beach);
    await alpine.waitForHello(1);
    await beach.waitForHello(1);
    await alpine.lists();
    await beach.lists();

    // A payment for K1, a rate change that reaches K1's card, a user for K2.
    const paid = await reseller.post(`/accounts/${ids.K1}/payments`, {
      amount: '10',
      idempotencyKey: 'alpine-live',
    });
    expect(paid.status).toBe(201);
    const edited = BUY_RATES.map((row) => (row.prefix === '44' ? { ...row, rate: '0.0120' } : row));
    expect((await admin.put(`/cards/${ids.wholesale}/rates`, { rates: edited })).status).toBe(200);
    await newUser(reseller, 'late@beach.self', ids.K2, ids.customerGroup);
    // Last, a colleague for K1: delivered in log order, so once K1's people have it,
    // everything before it that was ever going to reach them has.
    const last = await newUser(reseller, 'last@alpine.self', ids.K1, ids.customerGroup);

    const saw = (client: TLiveClient, test: (e: TChangeEnvelope) => boolean) =>
      client.raw.some(test);
    await until(
      () =>
        saw(alpine, (e) => e.type === 'customers.refetch' && e.id === ids.K1) &&
        saw(alpine, (e) => e.type === 'cards.rates_changed' && e.id === ids.retail) &&
        saw(alpine, (e) => e.type === 'users.created' && e.id === last) &&
        saw(beach, (e) => e.type === 'users.created'),
      'customer deliveries',
    );

    for (const envelope of alpine.raw) {
      const text = JSON.stringify(envelope);
      expect([envelope.type, text.includes(ids.wholesale)]).toEqual([envelope.type, false]);
      expect([envelope.type, text.includes(ids.K2)]).toEqual([envelope.type, false]);
      expect([envelope.type, text.includes('margin')]).toEqual([envelope.type, false]);
      expect([envelope.type, text.includes('beach')]).toEqual([envelope.type, false]);
    }
    expect(saw(beach, (e) => JSON.stringify(e).includes(ids.K1))).toBe(false);
    expect(saw(beach, (e) => e.type.startsWith('cards.'))).toBe(false);

    // What the live lists hold equals a fresh fetch.
    const fresh = await (
      await apiClient(suite.server.url, 'desk@alpine.self', PASSWORD)
    ).get('/cards');
    const cached = await alpine.lists();
    expect(cached.cards!.map((card) => [card.id, card.version])).toEqual(
      fresh.body.items.map((card: { id: string; version: number }) => [card.id, card.version]),
    );
    expect(cached.customers).toBeNull();
  });
});

describe('a reseller views as its customer’s user', () => {
  it('starts, answers as the customer user, refuses writes, and only below itself', async () => {
    const foreign = await reseller.post('/impersonation', {
      userId: ids.kxUser,
      reason: 'not mine',
    });
    expect(foreign.status).toBe(404);
    const peer = await reseller.post('/impersonation', {
      userId: ids.rUser,
      reason: 'a peer',
    });
    expect(peer.status).toBe(404);
    const started = await reseller.post('/impersonation', {
      userId: ids.k1User,
      reason: 'ticket #7: rates question',
    });
    expect(started.status).toBe(201);
    const me = (await reseller.get('/me')).body;
    expect(me).toMatchObject({
      user: { id: ids.k1User },
      account: { id: ids.K1, kind: 'customer' },
    });
    for (const path of [
      '/cards',
      `/cards/${ids.retail}/rates`,
      '/users',
      `/accounts/${ids.K1}/ledger`,
    ]) {
      expect([path, await reseller.get(path)]).toEqual([path, await k1.get(path)]);
    }
    expect((await reseller.get(`/cards/${ids.wholesale}`)).status).toBe(404);
    const write = await reseller.post('/users', {
      email: 'viewas@alpine.self',
      password: PASSWORD,
      accountId: ids.K1,
      groupId: ids.customerGroup,
    });
    expect(write.body.error.code).toBe('impersonation_read_only');
    expect((await reseller.del('/impersonation')).status).toBe(204);
    expect((await reseller.get('/me')).body.account.id).toBe(ids.R);
    // The reseller sees its customer's people, with their state.
    const people = (await reseller.get(`/users?accountId=${ids.K1}`)).body.items;
    expect(
      people.map((u: { email: string; status: string }) => [u.email, u.status]).sort(),
    ).toEqual([
      ['boss@alpine.self', 'active'],
      ['desk@alpine.self', 'active'],
      ['last@alpine.self', 'active'],
      ['night@alpine.self', 'active'],
    ]);
  });
});

describe('the provider above its reseller', () => {
  // White label: a reseller's customers see its brand, never the carrier behind it. A
  // movement the carrier records on their books names the carrier to the reseller (its
  // own provider), and to the customer only as an upstream provider.
  it('is named to the customer only as an upstream provider', async () => {
    const carrierName = (await admin.get('/me')).body.account.name as string;
    const paid = await admin.post(`/accounts/${ids.K1}/payments`, {
      amount: '1.25',
      reference: 'Goodwill from the carrier',
      idempotencyKey: 'alpine-from-carrier',
    });
    expect(paid.status).toBe(201);
    const entryIn = async (client: TApiClient) =>
      ((await client.get(`/accounts/${ids.K1}/ledger`)).body.items as TLedgerEntryDto[]).find(
        (entry) => entry.reference === 'Goodwill from the carrier',
      );
    expect((await entryIn(k1))?.by).toEqual({ kind: 'account', name: UPSTREAM_ACTOR });
    expect((await entryIn(reseller))?.by).toEqual({ kind: 'account', name: carrierName });
    expect(JSON.stringify((await k1.get(`/accounts/${ids.K1}/ledger`)).body)).not.toContain(
      carrierName,
    );
  });
});
