import { beforeAll, describe, expect, inject, it } from 'vitest';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { waitForLockWaiters } from '../fixtures/lock-waiters';

/**
 * Writes that check something and then act on it, against a write that changes that
 * something at the same time: a customer's transfer (DESIGN §1 "Customer moves") against
 * another transfer or a new user of the customer, a user's deletion against a richer
 * group given to the user — and the money grant a transfer needs when it moves money.
 * Each race is made certain, not hoped for: the test holds the carrier's log head (every
 * mutation takes it last, just before commit, lib/server/live/change-log.ts), so the
 * first request does all its work and waits there while the second one starts; then
 * the head is let go.
 */
const ADMIN = { email: 'admin@write-races.test', password: 'write-races-admin' };
const PASSWORD = 'write-races-user';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
// The embedded database has one connection: the races below need two transactions open at
// once. Under CI the suite always runs on a PostgreSQL server.
const embedded = inject('testDatabase').kind === 'pglite';
if (embedded) console.log('skipped on PGlite: one connection serialises the transactions');
let admin: TApiClient;
let ops1: TApiClient;
const ids = {} as Record<'carrier' | 'R1' | 'R2' | 'card' | 'customerGroup', string>;

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.carrier = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@races.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@races.test' })).body.id;
  for (const [accountId, email] of [
    [ids.R1, 'ops@r1.races.test'],
    [ids.R2, 'ops@r2.races.test'],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId,
      groupId: group,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
  }
  ops1 = await apiClient(suite.server.url, 'ops@r1.races.test', PASSWORD);
  const ops2 = await apiClient(suite.server.url, 'ops@r2.races.test', PASSWORD);
  // The card a moved customer gets at R2.
  const card = await ops2.post('/cards', { name: 'R2 retail', currency: 'EUR', kind: 'customer' });
  expect(card.status, JSON.stringify(card.body)).toBe(201);
  ids.card = card.body.id;
  const customerGroup = await ops1.post('/groups', { template: 'default-customer' });
  expect(customerGroup.status, JSON.stringify(customerGroup.body)).toBe(201);
  ids.customerGroup = customerGroup.body.id;
});

/** A customer of R1, with `balance` paid in when given. */
async function customerOfR1(name: string, balance?: string): Promise<string> {
  const made = await admin.post('/customers', { name, parentId: ids.R1 });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  if (balance) {
    const paid = await admin.post(`/accounts/${made.body.id}/payments`, {
      amount: balance,
      idempotencyKey: `pay-${made.body.id}`,
    });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
  }
  return made.body.id;
}

/**
 * Runs `first`, holding the carrier's log head until it waits there; then `second`, until
 * it waits too (on the head, or on a row `first` holds); then lets both go.
 */
async function raced<A, B>(first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
  let answers!: Promise<[A, B]>;
  await suite.orm.em.fork().transactional(async (tx) => {
    await tx.execute(`select 1 from carrier_log_head where carrier_id = ? for update`, [
      ids.carrier,
    ]);
    const a = first();
    await waitForLockWaiters(suite.orm, 1);
    const b = second();
    await waitForLockWaiters(suite.orm, 2);
    answers = Promise.all([a, b]);
  });
  return answers;
}

describe.skipIf(embedded)('a transfer at the same time as', () => {
  it('another transfer of the customer: the second reads where the first put it', async () => {
    const customer = await customerOfR1('Twice moved', '5');
    const [kept, settled] = await raced(
      () =>
        admin.post(`/customers/${customer}/transfer`, {
          toParentId: ids.R2,
          cardId: ids.card,
          idempotencyKey: 'twice-moved-keep',
        }),
      () =>
        admin.post(`/customers/${customer}/transfer`, {
          toParentId: ids.R2,
          cardId: ids.card,
          balance: 'settle',
          idempotencyKey: 'twice-moved-settle',
        }),
    );
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    // Not a second move from a copy read before the first: it is at R2 already.
    expect(settled.status, JSON.stringify(settled.body)).toBe(400);
    expect(settled.body.error.fields).toEqual({ toParentId: "is already the customer's parent" });
    const now = await admin.get(`/customers/${customer}`);
    expect(now.body).toMatchObject({ parentId: ids.R2, balance: '5.000000' });
    // The first's two adjustments (the balance carried to R2's books), no settlement.
    const adjustments = await admin.get(`/accounts/${customer}/ledger?kind=adjustment`);
    expect(adjustments.body.items.map((entry: { reference: string }) => entry.reference)).toEqual([
      'Transfer: balance brought from the previous parent',
      'Transfer: balance carried to the new parent',
    ]);
  });

  it('a user made in the customer: the transfer sees the user and refuses', async () => {
    const customer = await customerOfR1('Peopled while moving');
    const [user, moved] = await raced(
      () =>
        ops1.post('/users', {
          email: 'person@peopled.races.test',
          password: PASSWORD,
          accountId: customer,
          groupId: ids.customerGroup,
        }),
      () => admin.post(`/customers/${customer}/transfer`, { toParentId: ids.R2, cardId: ids.card }),
    );
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    // Else the customer would sit at R2 with a user whose password R1 chose.
    expect(moved.status, JSON.stringify(moved.body)).toBe(409);
    expect(moved.body.error.code).toBe('has_dependants');
    expect(moved.body.error.dependants).toEqual([
      expect.objectContaining({ resource: 'users', name: 'person@peopled.races.test' }),
    ]);
    expect((await admin.get(`/customers/${customer}`)).body.parentId).toBe(ids.R1);
  });

  it('a transfer first: a user made after the move is made under its new parent', async () => {
    const customer = await customerOfR1('Moved then peopled');
    const [moved, user] = await raced(
      () => admin.post(`/customers/${customer}/transfer`, { toParentId: ids.R2, cardId: ids.card }),
      () =>
        ops1.post('/users', {
          email: 'late@peopled.races.test',
          password: PASSWORD,
          accountId: customer,
          groupId: ids.customerGroup,
        }),
    );
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    // R1 no longer reaches the customer: no user of R1's making is left there.
    expect(user.status, JSON.stringify(user.body)).toBe(404);
    expect((await admin.get(`/users?accountId=${customer}`)).body.items).toEqual([]);
  });
});

describe.skipIf(embedded)('a transfer at the same time as a card', () => {
  let cardOfR1: string;

  beforeAll(async () => {
    const card = await ops1.post('/cards', {
      name: 'R1 retail',
      currency: 'EUR',
      kind: 'customer',
    });
    expect(card.status, JSON.stringify(card.body)).toBe(201);
    cardOfR1 = card.body.id;
  });

  /** A customer of R1 holding R1's card. */
  async function holdingCustomer(name: string): Promise<string> {
    const customer = await customerOfR1(name);
    const held = await ops1.post('/assignments', { cardId: cardOfR1, accountId: customer });
    expect(held.status, JSON.stringify(held.body)).toBe(201);
    return customer;
  }

  it('assigned by the old parent after the move: the customer is no longer its own', async () => {
    const customer = await holdingCustomer('Assigned while moving');
    const other = await ops1.post('/cards', {
      name: 'R1 other',
      currency: 'EUR',
      kind: 'customer',
    });
    const [moved, assigned] = await raced(
      () => admin.post(`/customers/${customer}/transfer`, { toParentId: ids.R2, cardId: ids.card }),
      () => ops1.post('/assignments', { cardId: other.body.id, accountId: customer }),
    );
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    // Not a replacement of the card R2 just gave it.
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(404);
    const holds = await admin.get(`/assignments?accountId=${customer}`);
    expect(holds.body.items.map((item: { cardId: string }) => item.cardId)).toEqual([ids.card]);
  });
});

describe.skipIf(embedded)('a card made to follow another at the same time as', () => {
  it('the assignment it follows taken away: the change of parents finds it gone', async () => {
    const made = await Promise.all(
      ['Wholesale A', 'Wholesale B'].map((name) =>
        admin.post('/cards', { name, currency: 'EUR', kind: 'customer' }),
      ),
    );
    const [cardA, cardB] = made.map((answer) => answer.body.id as string);
    const assignmentOfB = await admin.post('/assignments', { cardId: cardB, accountId: ids.R1 });
    expect(assignmentOfB.status, JSON.stringify(assignmentOfB.body)).toBe(201);
    expect((await admin.post('/assignments', { cardId: cardA, accountId: ids.R1 })).status).toBe(
      201,
    );
    const derived = await ops1.post(`/cards/${cardA}/derive`, {
      name: 'R1 follows',
      markupPercent: '10',
    });
    expect(derived.status, JSON.stringify(derived.body)).toBe(201);
    const [removed, followed] = await raced(
      () => admin.del(`/assignments/${assignmentOfB.body.id}`),
      () =>
        ops1.patch(`/cards/${derived.body.id}`, {
          version: derived.body.version,
          parents: [cardB],
        }),
    );
    expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    // Else R1's card would follow B's prices, and be told B's changes, without holding it.
    expect(followed.status, JSON.stringify(followed.body)).toBe(409);
    expect(followed.body.error.code).toBe('not_held');
    expect((await ops1.get(`/cards/${derived.body.id}`)).body.parentId).toBe(cardA);
  });
});

describe.skipIf(embedded)('a card derived at the same time as', () => {
  it('the assignment it derives from taken away: the derive finds it gone', async () => {
    const card = await admin.post('/cards', {
      name: 'Wholesale C',
      currency: 'EUR',
      kind: 'customer',
    });
    const assignment = await admin.post('/assignments', {
      cardId: card.body.id,
      accountId: ids.R1,
    });
    expect(assignment.status, JSON.stringify(assignment.body)).toBe(201);
    const [removed, derived] = await raced(
      () => admin.del(`/assignments/${assignment.body.id}`),
      () => ops1.post(`/cards/${card.body.id}/derive`, { name: 'R1 late', markupPercent: '10' }),
    );
    expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    // Not found or not held, never a card following one R1 no longer holds.
    expect([404, 409]).toContain(derived.status);
    const mine = await ops1.get('/cards?q=R1 late');
    expect(mine.body.items).toEqual([]);
  });
});

describe.skipIf(embedded)('a transfer that moves money', () => {
  it('needs payments:create besides customers:update', async () => {
    const editors = await admin.post('/groups', {
      name: 'Account editors',
      grants: ['customers:read', 'customers:update', 'resellers:read', 'cards:read'],
    });
    expect(editors.status, JSON.stringify(editors.body)).toBe(201);
    const made = await admin.post('/users', {
      email: 'editor@races.test',
      password: PASSWORD,
      accountId: ids.carrier,
      groupId: editors.body.id,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const editor = await apiClient(suite.server.url, 'editor@races.test', PASSWORD);
    const customer = await customerOfR1('Owes R1', '7');
    const move = { toParentId: ids.R2, cardId: ids.card };
    for (const [path, body] of [
      [
        `/customers/${customer}/transfer`,
        { ...move, balance: 'settle', idempotencyKey: 'editor-settle-1' },
      ],
      [`/customers/${customer}/transfer?dryRun=true`, { ...move, balance: 'settle' }],
      [
        `/customers/${customer}/transfer`,
        { ...move, rate: '1.1', idempotencyKey: 'editor-convert-1' },
      ],
      // Kept, a balance that is not zero moves from R1's books to R2's: money as well.
      [`/customers/${customer}/transfer`, { ...move, idempotencyKey: 'editor-keep-1' }],
      [`/customers/${customer}/transfer?dryRun=true`, move],
    ] as const) {
      const refused = await editor.post(path, body);
      expect([path, refused.status, refused.body.error?.message]).toEqual([
        path,
        403,
        'Your group does not grant payments:create.',
      ]);
    }
    expect((await admin.get(`/accounts/${customer}/ledger?kind=adjustment`)).body.items).toEqual(
      [],
    );
    expect((await admin.get(`/customers/${customer}`)).body.parentId).toBe(ids.R1);
    // A customer owing nothing moves no money: the edit grant is enough, and no key.
    const clear = await customerOfR1('Owes nothing');
    const kept = await editor.post(`/customers/${clear}/transfer`, move);
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body).toMatchObject({ parentId: ids.R2, balance: '0.000000' });
    expect((await admin.get(`/accounts/${clear}/ledger`)).body.items).toEqual([]);
  });
});

describe.skipIf(embedded)('a user deleted at the same time as', () => {
  it('an edit giving it a richer group: the deletion judges the group it has then', async () => {
    const helpdesk = await admin.post('/groups', {
      name: 'Helpdesk',
      // groups:read: the refusal names the grants of a group the helpdesk may read.
      grants: ['users:read', 'users:delete', 'customers:read', 'groups:read'],
    });
    const lean = await admin.post('/groups', { name: 'Lean', grants: ['customers:read'] });
    const richer = await admin.post('/groups', {
      name: 'Richer',
      grants: ['customers:read', 'impersonation:start'],
    });
    for (const [email, groupId] of [
      ['helpdesk@races.test', helpdesk.body.id],
      ['target@races.test', lean.body.id],
    ] as const) {
      const made = await admin.post('/users', {
        email,
        password: PASSWORD,
        accountId: ids.carrier,
        groupId,
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
    }
    const desk = await apiClient(suite.server.url, 'helpdesk@races.test', PASSWORD);
    const target = (await admin.get('/users?q=target@races.test')).body.items[0];
    const [regrouped, deleted] = await raced(
      () =>
        admin.patch(`/users/${target.id}`, { version: target.version, groupId: richer.body.id }),
      () => desk.del(`/users/${target.id}`),
    );
    expect(regrouped.status, JSON.stringify(regrouped.body)).toBe(200);
    expect(deleted).toMatchObject({
      status: 403,
      body: { error: { code: 'escalation', grants: ['impersonation:start'] } },
    });
    expect((await admin.get(`/users/${target.id}`)).body.groupId).toBe(richer.body.id);
  });
});

describe.skipIf(embedded)('a derived card deleted at the same time as', () => {
  it('its parent’s rates written: the write recomputes what is left, the card is gone', async () => {
    const parent = await admin.post('/cards', {
      name: 'Race buy',
      currency: 'EUR',
      kind: 'provider',
    });
    expect(parent.status, JSON.stringify(parent.body)).toBe(201);
    const rates = (rate: string) => ({
      rates: [{ prefix: '44', destination: 'UK', rate, initialIncrement: 1, increment: 1 }],
    });
    expect((await admin.put(`/cards/${parent.body.id}/rates`, rates('0.0100'))).status).toBe(200);
    const [gone, kept] = await Promise.all(
      ['Race sell gone', 'Race sell kept'].map(async (name) => {
        const derived = await admin.post(`/cards/${parent.body.id}/derive`, {
          name,
          markupPercent: '10',
        });
        expect(derived.status, JSON.stringify(derived.body)).toBe(201);
        return derived.body.id as string;
      }),
    );
    // The deletion queues on the derived card, held here; the parent's write reads its
    // followers, then queues behind it. The deletion goes first.
    let answers!: Promise<[{ status: number; body: unknown }, { status: number; body: unknown }]>;
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1 from card where id = ? for share', [gone]);
      const deleted = admin.del(`/cards/${gone}`);
      await waitForLockWaiters(suite.orm, 1);
      const written = admin.put(`/cards/${parent.body.id}/rates`, rates('0.0200'));
      await waitForLockWaiters(suite.orm, 2);
      answers = Promise.all([deleted, written]);
    });
    const [deleted, written] = await answers;
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    expect((await admin.get(`/cards/${gone}`)).status).toBe(404);
    const left = (await admin.get(`/cards/${kept}/rates`)).body.items as { rate: string }[];
    expect(left.map((row) => row.rate)).toEqual(['0.0220']);
  });
});

describe.skipIf(embedded)('a card given new parents at the same time as', () => {
  it('its new parent made to follow a card derived from it: no cycle, the second refused', async () => {
    // P ← A ← X and P ← B. B is made to follow X while A is made to follow B: together
    // A → B → X → A. Each change alone is sound; the later one must see the earlier.
    const p = await admin.post('/cards', { name: 'Cycle buy', currency: 'EUR', kind: 'provider' });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const put = await admin.put(`/cards/${p.body.id}/rates`, {
      rates: [{ prefix: '44', destination: 'UK', rate: '0.0100' }],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const derive = async (from: string, name: string) => {
      const made = await admin.post(`/cards/${from}/derive`, { name, markupPercent: '10' });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      return made.body as { id: string; version: number };
    };
    const a = await derive(p.body.id, 'Cycle A');
    const x = await derive(a.id, 'Cycle X');
    const b = await derive(p.body.id, 'Cycle B');
    const [bFollowsX, aFollowsB] = await raced(
      () => admin.patch(`/cards/${b.id}`, { version: b.version, parents: [x.id] }),
      () => admin.patch(`/cards/${a.id}`, { version: a.version, parents: [b.id] }),
    );
    expect(bFollowsX.status, JSON.stringify(bFollowsX.body)).toBe(200);
    expect(aFollowsB.status).toBe(400);
    expect(aFollowsB.body.error.fields).toEqual({ 'parents.0': 'is derived from this card' });
    expect((await admin.get(`/cards/${a.id}`)).body.parentIds).toEqual([p.body.id]);
  });
});

describe.skipIf(embedded)('a user deleted at the same time as a notice to its account', () => {
  it('is passed over by the notice; the write that tells it goes through', async () => {
    const group = await admin.post('/groups', {
      template: 'default-reseller',
      accountId: ids.R1,
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const gone = await admin.post('/users', {
      email: 'gone@r1.races.test',
      password: PASSWORD,
      accountId: ids.R1,
      groupId: group.body.id,
    });
    expect(gone.status, JSON.stringify(gone.body)).toBe(201);
    const card = await admin.post('/cards', {
      name: 'Told card',
      currency: 'EUR',
      kind: 'customer',
    });
    expect(card.status, JSON.stringify(card.body)).toBe(201);
    const [deleted, assigned] = await raced(
      () => admin.del(`/users/${gone.body.id}`),
      () => admin.post('/assignments', { cardId: card.body.id, accountId: ids.R1 }),
    );
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    // R1's other people were told.
    const inbox = (await ops1.get('/notifications?limit=50')).body.items as { title: string }[];
    expect(inbox.some((notice) => notice.title.includes('Told card'))).toBe(true);
  });
});

describe.skipIf(embedded)('a group deleted at the same time as', () => {
  it('an edit widening it: the deletion judges the grants it has then', async () => {
    const desk = await admin.post('/groups', {
      name: 'Group desk',
      grants: ['groups:read', 'groups:delete', 'customers:read'],
    });
    const made = await admin.post('/users', {
      email: 'groupdesk@races.test',
      password: PASSWORD,
      accountId: ids.carrier,
      groupId: desk.body.id,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const groupDesk = await apiClient(suite.server.url, 'groupdesk@races.test', PASSWORD);
    const target = await admin.post('/groups', { name: 'Widened', grants: ['customers:read'] });
    expect(target.status, JSON.stringify(target.body)).toBe(201);
    const [widened, deleted] = await raced(
      () =>
        admin.patch(`/groups/${target.body.id}`, {
          version: target.body.version,
          grants: ['customers:read', 'impersonation:start'],
        }),
      () => groupDesk.del(`/groups/${target.body.id}`),
    );
    expect(widened.status, JSON.stringify(widened.body)).toBe(200);
    expect(deleted).toMatchObject({
      status: 403,
      body: { error: { code: 'escalation', grants: ['impersonation:start'] } },
    });
    expect((await admin.get(`/groups/${target.body.id}`)).status).toBe(200);
  });
});

describe.skipIf(embedded)('a rating batch holding a customer at the same time as', () => {
  /** A carrier customer holding a card that prices 44… (0.0100 a minute, by the second). */
  async function customerWithCard(name: string) {
    const provider = await admin.post('/cards', {
      name: `${name} buy`,
      currency: 'EUR',
      kind: 'provider',
    });
    expect(provider.status, JSON.stringify(provider.body)).toBe(201);
    const put = await admin.put(`/cards/${provider.body.id}/rates`, {
      rates: [
        { prefix: '44', destination: 'UK', rate: '0.0100', initialIncrement: 1, increment: 1 },
      ],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const sell = await admin.post(`/cards/${provider.body.id}/derive`, {
      name: `${name} sell`,
      markupPercent: '10',
    });
    expect(sell.status, JSON.stringify(sell.body)).toBe(201);
    const customer = await admin.post('/customers', { name, creditLimit: '100' });
    expect(customer.status, JSON.stringify(customer.body)).toBe(201);
    const assigned = await admin.post('/assignments', {
      cardId: sell.body.id,
      accountId: customer.body.id,
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    return {
      id: customer.body.id as string,
      assignmentId: assigned.body.id as string,
      providerId: provider.body.id as string,
    };
  }

  const call = (id: string, accountId: string, startedAt: string) => ({
    records: [{ id, accountId, number: '4420123', startedAt, seconds: 60 }],
  });

  it('an edit of it: 409 with the account as the batch left it, not a bare conflict', async () => {
    const { id } = await customerWithCard('Edited while rated');
    const read = (await admin.get(`/customers/${id}`)).body;
    const [rated, edited] = await raced(
      () => admin.post('/usage', call('edit-race', id, new Date().toISOString())),
      () => admin.patch(`/customers/${id}`, { version: read.version, name: 'Renamed' }),
    );
    expect(rated.status, JSON.stringify(rated.body)).toBe(200);
    expect(edited.status).toBe(409);
    // What the form needs to see that only the balance moved, and save again.
    expect(edited.body.error.current).toMatchObject({ name: 'Edited while rated' });
    expect(edited.body.error.current.version).toBeGreaterThan(read.version);
    expect(edited.body.error.current.balance).not.toBe(read.balance);
  });

  it('the replacement of its card: a call is charged on the card the trace shows', async () => {
    // K holds A (+10 %); A2 (+50 %) replaces it. The replacement does its work and waits
    // at the carrier's head; a batch with a call from this moment reads K's card (A, as
    // committed) and queues behind it. The trace at the call's start, afterwards, must
    // show the card the call was charged on.
    const { id, providerId } = await customerWithCard('Replaced while rated');
    const a2 = await admin.post(`/cards/${providerId}/derive`, {
      name: 'Replaced while rated A2',
      markupPercent: '50',
    });
    expect(a2.status, JSON.stringify(a2.body)).toBe(201);
    let startedAt = '';
    const [replaced, rated] = await raced(
      () => admin.post('/assignments', { cardId: a2.body.id, accountId: id }),
      () => {
        startedAt = new Date().toISOString();
        return admin.post('/usage', call('replace-race', id, startedAt));
      },
    );
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(201);
    expect(rated.status, JSON.stringify(rated.body)).toBe(200);
    const record = (
      (await admin.get('/usage?limit=100')).body.items as {
        cdrId: string;
        levels: { cardId: string; amount: string }[];
      }[]
    ).find((item) => item.cdrId === 'replace-race')!;
    const traced = await admin.get(
      `/rates/lookup?accountId=${id}&number=4420123&seconds=60&at=${encodeURIComponent(startedAt)}`,
    );
    expect(traced.status).toBe(200);
    const customerLevel = (levels: { cardId: string; amount: string | null }[]) =>
      levels.find((level) => level.cardId !== providerId)!;
    const charged = customerLevel(record.levels);
    const shown = customerLevel(traced.body.levels);
    expect(shown.cardId).toBe(charged.cardId);
    expect(Number(shown.amount)).toBe(Number(charged.amount));
  });

  it('its deletion: the deletion finds the calls the batch left unrated under it', async () => {
    // A customer without a card: its call is stored unrated (`no_card`), to be billed
    // once it has one. The batch and the deletion queue on its row, held here, in that
    // order; the deletion must see what the batch stored.
    const made = await admin.post('/customers', { name: 'Deleted while rated' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const id = made.body.id as string;
    let answers!: Promise<[{ status: number; body: any }, { status: number; body: any }]>; // eslint-disable-line @typescript-eslint/no-explicit-any
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1 from account where id = ? for no key update', [id]);
      const rated = admin.post('/usage', call('delete-race', id, new Date().toISOString()));
      await waitForLockWaiters(suite.orm, 1);
      const deleted = admin.del(`/customers/${id}`);
      await waitForLockWaiters(suite.orm, 2);
      answers = Promise.all([rated, deleted]);
    });
    const [rated, deleted] = await answers;
    expect(rated.status, JSON.stringify(rated.body)).toBe(200);
    expect(rated.body).toMatchObject({ rated: 0, unrated: 1 });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(409);
    expect(deleted.body.error.code).toBe('has_dependants');
    expect(deleted.body.error.dependants).toContainEqual(
      expect.objectContaining({ resource: 'usage' }),
    );
    expect((await admin.get(`/customers/${id}`)).status).toBe(200);
  });

  it('a bulk suspend of it and another: both hold them in one order, neither deadlocks', async () => {
    // K1 sorts before K2. The batch (calls of both) queues on K1, held here; the bulk
    // names K2 first. Were K2 held by the bulk while it waits for K1 behind the batch,
    // the batch would then wait for K2: a deadlock, one of them refused.
    const made = [
      (await admin.post('/customers', { name: 'Bulk race A' })).body.id as string,
      (await admin.post('/customers', { name: 'Bulk race B' })).body.id as string,
    ].sort();
    const [k1, k2] = made as [string, string];
    const started = new Date().toISOString();
    let answers!: Promise<[{ status: number; body: unknown }, { status: number; body: unknown }]>;
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1 from account where id = ? for no key update', [k1]);
      const batch = admin.post('/usage', {
        records: [k1, k2].map((accountId, n) => ({
          id: `bulk-race-${n}`,
          accountId,
          number: '4420123',
          startedAt: started,
          seconds: 60,
        })),
      });
      await waitForLockWaiters(suite.orm, 1);
      const bulk = admin.post('/customers/bulk', { ids: [k2, k1], status: 'suspended' });
      await waitForLockWaiters(suite.orm, 2);
      answers = Promise.all([batch, bulk]);
    });
    const [batch, bulk] = await answers;
    expect(batch.status, JSON.stringify(batch.body)).toBe(200);
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(200);
    for (const id of made) {
      expect((await admin.get(`/customers/${id}`)).body.status).toBe('suspended');
    }
  });
});

describe.skipIf(embedded)(
  'a view-as started at the same time as another by the same person',
  () => {
    it('leaves one view open, the later one, and a stop ends it', async () => {
      const users = (await admin.get('/users?limit=100')).body.items as {
        id: string;
        email: string;
      }[];
      const target = (email: string) => users.find((user) => user.email === email)!.id;
      const [first, second] = await raced(
        () =>
          admin.post('/impersonation', { userId: target('ops@r1.races.test'), reason: 'first' }),
        () =>
          admin.post('/impersonation', { userId: target('ops@r2.races.test'), reason: 'second' }),
      );
      expect([first.status, second.status]).toEqual([201, 201]);
      const open = () =>
        suite.orm.em.fork().execute<{ reason: string }[]>(
          `select i.reason from impersonation i join app_user u on u.id = i.impersonator_user_id
          where u.email = ? and i.ended_at is null`,
          [ADMIN.email],
        );
      expect(await open()).toEqual([{ reason: 'second' }]);
      expect((await admin.del('/impersonation')).status).toBe(204);
      expect(await open()).toEqual([]);
    });
  },
);

describe.skipIf(embedded)('two saves of one user, or of one group, at the same time', () => {
  it('the second gets 409 with the current user or group, as a save after the first would', async () => {
    const made = await admin.post('/users', {
      email: 'twice@r1.races.test',
      password: PASSWORD,
      accountId: ids.R1,
      groupId: ids.customerGroup,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const group = await admin.post('/groups', { name: 'Twice saved', grants: ['cards:read'] });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    for (const [path, version, field] of [
      [`/users/${made.body.id}`, made.body.version, 'name'],
      [`/groups/${group.body.id}`, group.body.version, 'name'],
    ] as const) {
      const [first, second] = await raced(
        () => admin.patch(path, { version, [field]: 'First save' }),
        () => admin.patch(path, { version, [field]: 'Second save' }),
      );
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      // The form shows what it is now beside what was typed (DESIGN §3): not a bare 409.
      expect(second.status, JSON.stringify(second.body)).toBe(409);
      expect(second.body.error.current).toEqual((await admin.get(path)).body);
      expect(second.body.error.current.name).toBe('First save');
    }
  });
});

describe.skipIf(embedded)("a write at the same time as its author's loss of access", () => {
  it('is refused once the author is disabled, or its group no longer grants it', async () => {
    const clerkGroup = await admin.post('/groups', {
      name: 'Clerks',
      grants: ['customers:read', 'payments:create', 'ledger:read'],
    });
    const readers = await admin.post('/groups', { name: 'Readers', grants: ['customers:read'] });
    const customer = await customerOfR1('Paid while revoked');
    for (const [email, revoke] of [
      [
        'clerk-disabled@races.test',
        (id: string, version: number) => ({ version, status: 'disabled' }),
      ],
      [
        'clerk-demoted@races.test',
        (id: string, version: number) => ({ version, groupId: readers.body.id }),
      ],
    ] as const) {
      const made = await admin.post('/users', {
        email,
        password: PASSWORD,
        accountId: ids.carrier,
        groupId: clerkGroup.body.id,
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const clerk = await apiClient(suite.server.url, email, PASSWORD);
      // The admin's edit first (it holds the clerk's row and waits on the log head), then
      // the clerk's payment, let in by the door while the edit is not yet committed.
      const [revoked, paid] = await raced(
        () => admin.patch(`/users/${made.body.id}`, revoke(made.body.id, made.body.version)),
        () =>
          clerk.post(`/accounts/${customer}/payments`, {
            amount: '3',
            idempotencyKey: `revoked-${email}`,
          }),
      );
      expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
      // Not a payment landing after its author could no longer make it.
      expect(paid.status, JSON.stringify(paid.body)).toBe(403);
      expect(paid.body.error.code).toBe('access_changed');
    }
    expect((await admin.get(`/customers/${customer}`)).body.balance).toBe('0.000000');
  });
});

describe.skipIf(embedded)('two members saving their own group at the same time', () => {
  it('queue, not deadlock: the second gets 409 with the current group', async () => {
    const editors = await admin.post('/groups', {
      name: 'Group editors',
      grants: ['groups:read', 'groups:update', 'customers:read'],
    });
    expect(editors.status, JSON.stringify(editors.body)).toBe(201);
    const members: TApiClient[] = [];
    for (const email of ['editor-a@races.test', 'editor-b@races.test']) {
      const made = await admin.post('/users', {
        email,
        password: PASSWORD,
        accountId: ids.carrier,
        groupId: editors.body.id,
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      members.push(await apiClient(suite.server.url, email, PASSWORD));
    }
    const path = `/groups/${editors.body.id}`;
    // The group's row held as a write of it would hold it (no key update): both saves
    // have taken what they hold of their author — the group — before either locks the
    // row to edit it. Each had to wait there for the other's share: a deadlock, one
    // thrown away as 409 busy with nothing to show.
    let answers!: Promise<[{ status: number; body: any }, { status: number; body: any }]>; // eslint-disable-line @typescript-eslint/no-explicit-any
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1 from user_group where id = ? for no key update', [
        editors.body.id,
      ]);
      const a = members[0]!.patch(path, { version: editors.body.version, name: 'Editors A' });
      await waitForLockWaiters(suite.orm, 1);
      const b = members[1]!.patch(path, { version: editors.body.version, name: 'Editors B' });
      await waitForLockWaiters(suite.orm, 2);
      answers = Promise.all([a, b]);
    });
    const [first, second] = await answers;
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    expect(second.body.error.current).toMatchObject({ name: 'Editors A' });
  });
});

describe.skipIf(embedded)('two groups made from one template at the same time', () => {
  it('get two names, the second numbered, not a 409 on a name never sent', async () => {
    const [first, second] = await raced(
      () => admin.post('/groups', { template: 'default-customer', accountId: ids.R2 }),
      () => admin.post('/groups', { template: 'default-customer', accountId: ids.R2 }),
    );
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect([first.body.name, second.body.name].sort()).toEqual([
      'Default Customer',
      'Default Customer (2)',
    ]);
  });
});

describe.skipIf(embedded)('a parent card’s rates written at the same time as', () => {
  it('an edit of a card derived from it: both land, the derived card in step', async () => {
    // The write holds the parent while it recomputes; the edit updates the derived card's
    // row twice, and the second update re-checks its parent's key. With the parent held
    // `for update` the two waited for each other (a deadlock: one thrown away as busy).
    const rows = (rate: string) => ({
      rates: Array.from({ length: 5_000 }, (_, i) => ({
        prefix: String(100_000 + i),
        destination: `D${i}`,
        rate,
        initialIncrement: 1,
        increment: 1,
      })),
    });
    const parent = await admin.post('/cards', {
      name: 'Race buy',
      currency: 'EUR',
      kind: 'provider',
    });
    expect((await admin.put(`/cards/${parent.body.id}/rates`, rows('0.0100'))).status).toBe(200);
    const child = await admin.post(`/cards/${parent.body.id}/derive`, {
      name: 'Race sell',
      markupPercent: '10',
    });
    expect(child.status).toBe(201);
    const write = admin.put(`/cards/${parent.body.id}/rates`, rows('0.0200'));
    // Until the write holds the parent's row.
    const probe = suite.orm.em.fork();
    for (let tries = 0; ; tries++) {
      expect(tries, 'the write took the parent').toBeLessThan(4_000);
      const free = await probe
        .transactional((tx) =>
          tx.execute('select 1 from card where id = ? for no key update nowait', [parent.body.id]),
        )
        .then(() => true)
        .catch(() => false);
      if (!free) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const edit = admin.patch(`/cards/${child.body.id}`, {
      version: child.body.version,
      markupPercent: '25',
    });
    const [written, edited] = await Promise.all([write, edit]);
    expect([written.status, written.body.error?.code]).toEqual([200, undefined]);
    expect([edited.status, edited.body.error?.code]).toEqual([200, undefined]);
    // Whichever came second, the derived card prices the new parent at the new markup.
    const sold = await admin.get(`/cards/${child.body.id}/rates?limit=1`);
    expect(sold.body.items[0].rate).toBe('0.0250');
  });
});

describe.skipIf(embedded)('two provider cards written at the same time', () => {
  it('a card compared with both is checked by the later against the earlier: alerted', async () => {
    const deck = (rate: string) => ({
      rates: [
        { prefix: '44', destination: 'UK', rate },
        { prefix: '33', destination: 'France', rate },
      ],
    });
    const provider = async (name: string) => {
      const made = await admin.post('/cards', { name, currency: 'EUR', kind: 'provider' });
      expect((await admin.put(`/cards/${made.body.id}/rates`, deck('0.0100'))).status).toBe(200);
      return made.body.id as string;
    };
    const [a, b] = [await provider('Cheap A'), await provider('Cheap B')];
    const sold = await admin.post('/cards', {
      name: 'Compared',
      currency: 'EUR',
      kind: 'customer',
    });
    expect((await admin.put(`/cards/${sold.body.id}/rates`, deck('0.0200'))).status).toBe(200);
    const compared = await admin.patch(`/cards/${sold.body.id}`, {
      version: (await admin.get(`/cards/${sold.body.id}`)).body.version,
      compareWith: [a, b],
    });
    expect(compared.status).toBe(200);
    // Both dearer than what the card sells at: it loses whichever is the cheapest.
    const [ra, rb] = await raced(
      () => admin.put(`/cards/${a}/rates`, deck('0.0500')),
      () => admin.put(`/cards/${b}/rates`, deck('0.0600')),
    );
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect((await admin.get(`/cards/${sold.body.id}/margin`)).body.total).toBe(2);
    const alerts = await suite.orm.em.fork().execute<{ count: number }[]>(
      `select (summary->>'count')::int as count from change_log
          where entity_id = ? and summary->>'event' = 'margin_alert'`,
      [sold.body.id],
    );
    expect(alerts.map((alert) => alert.count)).toContain(2);
  });
});

describe.skipIf(embedded)('a user edited at the same time as a notice to its account', () => {
  it('is told all the same: only a user being deleted is passed over', async () => {
    const made = await admin.post('/users', {
      email: 'renamed@r1.races.test',
      password: PASSWORD,
      accountId: ids.R1,
      groupId: (await ops1.get('/me')).body.group.id,
    });
    expect(made.status).toBe(201);
    const card = await admin.post('/cards', { name: 'Told', currency: 'EUR', kind: 'customer' });
    const [renamed, assigned] = await raced(
      () => admin.patch(`/users/${made.body.id}`, { version: made.body.version, name: 'Renamed' }),
      () => admin.post('/assignments', { cardId: card.body.id, accountId: ids.R1 }),
    );
    expect([renamed.status, assigned.status]).toEqual([200, 201]);
    const told = await suite.orm.em.fork().execute<{ n: string }[]>(
      `select count(*) as n from notification where user_id = ? and kind = 'card.assigned'
            and data->>'cardId' = ?`,
      [made.body.id, card.body.id],
    );
    expect(Number(told[0]!.n)).toBe(1);
  });
});

describe.skipIf(embedded)('at the same time, answered as the sign-in or the retry would be', () => {
  it('a token asked for while its user is disabled: the uniform 401, nothing saved', async () => {
    const made = await admin.post('/users', {
      email: 'leaving@r1.races.test',
      password: PASSWORD,
      accountId: ids.R1,
      groupId: (await ops1.get('/me')).body.group.id,
    });
    expect(made.status).toBe(201);
    const [disabled, token] = await raced(
      () =>
        admin.patch(`/users/${made.body.id}`, { version: made.body.version, status: 'disabled' }),
      () => requestToken(suite.server.url, 'leaving@r1.races.test', PASSWORD),
    );
    expect(disabled.status).toBe(200);
    // Not "nothing was saved", which would tell that the password was right.
    expect([token.status, token.body.error.code]).toEqual([401, 'invalid_credentials']);
  });

  it('two cards given to a customer holding none: the second is told to try again', async () => {
    const customer = await customerOfR1('Two cards at once');
    const card = async (name: string) =>
      (await ops1.post('/cards', { name, currency: 'EUR', kind: 'customer' })).body.id as string;
    const [first, second] = [await card('First at once'), await card('Second at once')];
    const [a, b] = await raced(
      () => ops1.post('/assignments', { cardId: first, accountId: customer }),
      () => ops1.post('/assignments', { cardId: second, accountId: customer }),
    );
    expect(a.status).toBe(201);
    expect([b.status, b.body.error.code]).toEqual([409, 'busy']);
    expect(b.body.error.fields).toEqual({
      accountId: 'was given another card at the same moment',
    });
    // Asked again, it replaces the first, as DESIGN says a second card does.
    const again = await ops1.post('/assignments', { cardId: second, accountId: customer });
    expect(again.status).toBe(201);
  });
});

describe.skipIf(embedded)('a reseller suspended at the same time as', () => {
  it('a write of one of its people: the write is refused, nothing of it lands', async () => {
    // DESIGN §1: suspending a reseller stops its users at once. A write already past the
    // door when the suspension commits must not land after it, as for a disabled author.
    const customer = await customerOfR1('Paid while suspending');
    const version = (await admin.get(`/resellers/${ids.R1}`)).body.version as number;
    const [suspended, paid] = await raced(
      () => admin.patch(`/resellers/${ids.R1}`, { version, status: 'suspended' }),
      () =>
        ops1.post(`/accounts/${customer}/payments`, {
          amount: '3',
          idempotencyKey: `while-suspending-${customer}`,
        }),
    );
    try {
      expect(suspended.status).toBe(200);
      expect([paid.status, paid.body.error?.code]).toEqual([403, 'access_changed']);
      const entries = await suite.orm.em
        .fork()
        .execute<{ n: string }[]>(
          `select count(*) as n from ledger_entry where account_id = ? and kind = 'payment'`,
          [customer],
        );
      expect(Number(entries[0]!.n)).toBe(0);
    } finally {
      const now = (await admin.get(`/resellers/${ids.R1}`)).body.version as number;
      expect(
        (await admin.patch(`/resellers/${ids.R1}`, { version: now, status: 'active' })).status,
      ).toBe(200);
    }
  });
});
