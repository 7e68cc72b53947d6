import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TActor } from '@/lib/server/authz/actor';
import { recordMovement } from '@/lib/server/services/ledger/record-payment';
import { statementFigures } from '@/lib/server/services/statements/statement-figures';
import { Money } from '@/lib/shared/pricing/money';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import type { TEventsAck } from '@/lib/shared/live/events';
import type { TAuditEntryDto } from '@/lib/shared/schemas/audit';
import type { TLedgerEntryDto } from '@/lib/shared/schemas/ledger';
import { apiClient, ok, type TApiClient } from '../fixtures/api-client';
import { until } from '../fixtures/live-client';
import { usePanelSuite } from '../fixtures/panel-suite';
import { actorByEmail, listenAs, type TCookieListener } from '../fixtures/cookie-listener';

/**
 * A transfer moves the customer's path but not its past (ARCHITECTURE "Money"), live too:
 * a customer that owes its old reseller and is moved with its balance settled (or, across
 * currencies, converted) reaches the new reseller's sockets at the balance it has there
 * — never the one it had with the old reseller, nor the movement that closed it on the
 * old books — and catch-up and the audit say the same. The old reseller sees the
 * settlement, then the customer leave.
 *
 * Tree: carrier ─┬─ R1 (EUR) ─ C, C2, M1 (sentinel)
 *                ├─ R3 (EUR) ─ M3 (sentinel)
 *                └─ RU (USD) ─ MU (sentinel)
 */
const ADMIN = { email: 'admin@transfer-books.test', password: 'transfer-books-admin' };
const PASSWORD = 'transfer-books-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

type TListener = TCookieListener;

let admin: TApiClient;
const ids = {} as Record<'R1' | 'R3' | 'RU' | 'M1' | 'M3' | 'MU' | 'card3' | 'cardU', string>;
const listeners = {} as Record<'r1' | 'r3' | 'ru', TListener>;
/** Each listener's sentinel: a customer of its own, renamed by the carrier. */
const sentinelOf = { r1: 'M1', r3: 'M3', ru: 'MU' } as const;
let r1Actor: TActor;

const actorOf = (email: string) => actorByEmail(suite.orm.em.fork(), email);

const listen = (client: TApiClient) => listenAs(suite.server.url, client);

const isSentinel = (envelope: TChangeEnvelope) => [ids.M1, ids.M3, ids.MU].includes(envelope.id);

/** The carrier renames a customer: a change that is not a balance move. */
async function rename(id: string): Promise<number> {
  const current = await ok(admin.get(`/customers/${id}`), 200);
  const renamed = await ok(
    admin.patch(`/customers/${id}`, { version: current.version, name: `${current.name}+` }),
    200,
  );
  return renamed.version;
}

/**
 * Waits until everything written so far that will ever reach a listener live has: the
 * carrier renames the moved customer — which sends at once, to those who see it now, and
 * drops a balance move held back for it (server/balance-hold.ts) — and then each
 * listener's sentinel customer. Events arrive in commit order, so once a listener has
 * its sentinel nothing before it is still on the way.
 */
async function settle(moved: string): Promise<void> {
  await rename(moved);
  for (const [name, listener] of Object.entries(listeners)) {
    const id = ids[sentinelOf[name as keyof typeof sentinelOf]];
    const version = await rename(id);
    await until(
      () => listener.received.some((e) => e.id === id && e.data.version === version),
      `${name} to receive its sentinel`,
    );
  }
}

/** What a listener received about one customer, sentinels aside. */
function about(listener: TListener, id: string): TChangeEnvelope[] {
  return listener.received.filter((e) => e.id === id && !isSentinel(e));
}

/** Catch-up from the listener's hello, over HTTP and over its socket: the same page. */
async function caughtUp(listener: TListener, id: string): Promise<TChangeEnvelope[]> {
  const page = await ok(listener.client.get(`/events?since=${listener.hello.seq}&limit=1000`), 200);
  const ack = (await listener.socket
    .timeout(5_000)
    .emitWithAck('events:since', { since: listener.hello.seq, limit: 1000 })) as TEventsAck;
  expect(ack).toEqual({ ok: true, page });
  return (page.items as TChangeEnvelope[]).filter((e) => e.id === id);
}

async function auditOf(client: TApiClient, id: string): Promise<TAuditEntryDto[]> {
  return (await ok(client.get(`/audit?entityId=${id}&limit=500`), 200)).items;
}

async function ledgerOf(client: TApiClient, id: string): Promise<TLedgerEntryDto[]> {
  return (await ok(client.get(`/accounts/${id}/ledger?limit=500`), 200)).items;
}

/** Every balance an envelope or audit side shows. */
function balancesIn(bodies: (Record<string, unknown> | null | undefined)[]): string[] {
  return bodies.flatMap((body) =>
    body && typeof body.balance === 'string' ? [new Money(body.balance).toFixed(2)] : [],
  );
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await ok(admin.post('/groups', { template: 'default-reseller' }))).id;
  ids.R1 = (await ok(admin.post('/resellers', { name: 'R1', email: 'r1@tb.test' }))).id;
  ids.R3 = (await ok(admin.post('/resellers', { name: 'R3', email: 'r3@tb.test' }))).id;
  ids.RU = (
    await ok(admin.post('/resellers', { name: 'RU', email: 'ru@tb.test', currency: 'USD' }))
  ).id;
  const clients = {} as Record<'r1' | 'r3' | 'ru', TApiClient>;
  for (const [name, accountId] of [
    ['r1', ids.R1],
    ['r3', ids.R3],
    ['ru', ids.RU],
  ] as const) {
    const email = `ops@${name}.tb.test`;
    await ok(admin.post('/users', { email, password: PASSWORD, accountId, groupId: group }));
    clients[name] = await apiClient(suite.server.url, email, PASSWORD);
  }
  r1Actor = await actorOf('ops@r1.tb.test');
  ids.card3 = (
    await ok(clients.r3.post('/cards', { name: 'R3 sell', currency: 'EUR', kind: 'customer' }))
  ).id;
  ids.cardU = (
    await ok(clients.ru.post('/cards', { name: 'RU sell', currency: 'USD', kind: 'customer' }))
  ).id;
  ids.M1 = (await ok(clients.r1.post('/customers', { name: 'M1' }))).id;
  ids.M3 = (await ok(clients.r3.post('/customers', { name: 'M3' }))).id;
  ids.MU = (await ok(clients.ru.post('/customers', { name: 'MU' }))).id;
  listeners.r1 = await listen(clients.r1);
  listeners.r3 = await listen(clients.r3);
  listeners.ru = await listen(clients.ru);
});

afterAll(() => {
  for (const listener of Object.values(listeners)) listener.socket?.close();
});

/** A customer of R1 that owes it `owes`, made and charged behind the listeners' backs. */
async function owingCustomer(name: string, owes: string): Promise<string> {
  const id = (await ok(listeners.r1.client.post('/customers', { name }))).id;
  await recordMovement(suite.orm.em.fork(), r1Actor, id, {
    kind: 'adjustment',
    amount: new Money(owes).negated().toFixed(6),
    reference: `Calls of ${name} under R1`,
  });
  return id;
}

/** An envelope without what only live delivery adds (a coalesced move, a resume point). */
function bare(envelope: TChangeEnvelope): TChangeEnvelope {
  const copy = { ...envelope };
  delete copy.coalesced;
  delete copy.resumeAfter;
  return copy;
}

describe('a transfer with the balance settled', () => {
  it('shows the new parent the customer at zero, never the old balance nor its closing', async () => {
    const c = await owingCustomer('C Settled', '500');
    await ok(
      admin.post(`/customers/${c}/transfer`, {
        toParentId: ids.R3,
        cardId: ids.card3,
        balance: 'settle',
        idempotencyKey: 'books-settle-1',
      }),
      200,
    );
    await settle(c);

    // R3, live: the customer enters its view at zero (then the carrier's rename), and
    // nothing that moved on R1's books reaches it.
    const live = about(listeners.r3, c).map(bare);
    expect(live.map((e) => e.type)).toEqual(['customers.added', 'customers.updated']);
    expect(live[0]!.summary).toMatchObject({ reason: 'transfer' });
    expect(balancesIn(live.map((e) => e.data))).toEqual(['0.00', '0.00']);
    expect(live.filter((e) => e.summary?.reason === 'ledger')).toEqual([]);

    // Catch-up answers R3 exactly that (it never coalesces: nothing was held back).
    expect(await caughtUp(listeners.r3, c)).toEqual(live);

    // The audit: R3 reads the customer's arrival at zero, nothing of the settlement.
    const audit = await auditOf(listeners.r3.client, c);
    expect(audit.filter((entry) => entry.summary?.reason === 'ledger')).toEqual([]);
    expect(new Set(balancesIn(audit.flatMap((entry) => [entry.before, entry.after])))).toEqual(
      new Set(['0.00']),
    );
    expect(audit.find((entry) => entry.summary?.reason === 'transfer')?.before).toBeNull();

    // REST agrees: balance 0, no ledger entry on R3's books.
    const customer = await ok(listeners.r3.client.get(`/customers/${c}`), 200);
    expect(new Money(customer.balance).isZero()).toBe(true);
    expect(await ledgerOf(listeners.r3.client, c)).toEqual([]);

    // R1 reads, in catch-up, the customer made and charged, its settlement closing the
    // balance on R1's books, then the customer leaving; live, a part of that (balance
    // moves coalesce), ending with the removal.
    const old = await caughtUp(listeners.r1, c);
    expect(old.map((e) => e.type)).toEqual([
      'customers.created',
      'customers.updated',
      'customers.updated',
      'customers.removed',
    ]);
    expect(old[2]!.summary).toMatchObject({ reason: 'ledger', kind: 'adjustment' });
    expect(new Money(old[2]!.summary!.amount as string).eq('500')).toBe(true);
    expect(new Money(old[2]!.data.balance as string).isZero()).toBe(true);
    expect(old[3]!.data).toEqual({ id: c });
    const oldLive = about(listeners.r1, c).map(bare);
    expect(oldLive.at(-1)).toEqual(old[3]);
    for (const envelope of oldLive) expect(old).toContainEqual(envelope);
    const settlement = (await auditOf(listeners.r1.client, c)).find(
      (entry) =>
        entry.summary?.reason === 'ledger' && new Money(entry.summary.amount as string).eq('500'),
    );
    expect(balancesIn([settlement?.before, settlement?.after])).toEqual(['-500.00', '0.00']);

    // The carrier reads the settlement on R1's books.
    const books = await ledgerOf(admin, c);
    expect(
      books.map((entry) => [entry.reference, new Money(entry.amount).toFixed(2), entry.currency]),
    ).toEqual([
      ['Transfer: balance settled with R1', '500.00', 'EUR'],
      ['Calls of C Settled under R1', '-500.00', 'EUR'],
    ]);
  });
});

describe('a transfer converting the balance to another currency', () => {
  it('shows the new parent only the opening on its own books', async () => {
    const c = await owingCustomer('C Converted', '200');
    await ok(
      admin.post(`/customers/${c}/transfer`, {
        toParentId: ids.RU,
        cardId: ids.cardU,
        rate: '1.1',
        idempotencyKey: 'books-convert-1',
      }),
      200,
    );
    await settle(c);

    // RU, in catch-up: the customer enters at zero in USD, the opening moves it on RU's
    // books, then the carrier's rename. Live: the same, the opening perhaps coalesced.
    const caught = await caughtUp(listeners.ru, c);
    expect(caught.map((e) => e.type)).toEqual([
      'customers.added',
      'customers.updated',
      'customers.updated',
    ]);
    expect(caught[0]!.data).toMatchObject({ currency: 'USD' });
    expect(new Money(caught[0]!.data.balance as string).isZero()).toBe(true);
    expect(caught[1]!.summary).toMatchObject({ reason: 'ledger', currency: 'USD' });
    expect(new Money(caught[1]!.summary!.amount as string).eq('-220')).toBe(true);
    expect(new Money(caught[1]!.data.balance as string).eq('-220')).toBe(true);
    const live = about(listeners.ru, c).map(bare);
    expect(live[0]).toEqual(caught[0]);
    expect(live.at(-1)).toEqual(caught[2]);
    for (const envelope of live) expect(caught).toContainEqual(envelope);

    const audit = await auditOf(listeners.ru.client, c);
    expect(
      audit.filter((entry) => entry.summary?.reason === 'ledger').map((e) => e.summary!.currency),
    ).toEqual(['USD']);
    expect(new Set(balancesIn(audit.flatMap((entry) => [entry.before, entry.after])))).toEqual(
      new Set(['0.00', '-220.00']),
    );
    const books = await ledgerOf(listeners.ru.client, c);
    expect(books.map((entry) => [entry.currency, new Money(entry.amount).toFixed(2)])).toEqual([
      ['USD', '-220.00'],
    ]);

    // R1 reads the EUR balance closed on its books, then the customer leave.
    const old = (await caughtUp(listeners.r1, c)).slice(2);
    expect(old.map((e) => e.type)).toEqual(['customers.updated', 'customers.removed']);
    expect(old[0]!.summary).toMatchObject({ reason: 'ledger', currency: 'EUR' });
    expect(new Money(old[0]!.summary!.amount as string).eq('200')).toBe(true);
    expect(new Money(old[0]!.data.balance as string).isZero()).toBe(true);
  });
});

describe('a period after a transfer that settled the balance across currencies', () => {
  it('is stated in the new currency from zero: no conversion happened inside it', async () => {
    const c = await owingCustomer('C Settled Abroad', '80');
    await ok(
      admin.post(`/customers/${c}/transfer`, {
        toParentId: ids.RU,
        cardId: ids.cardU,
        rate: '1.1',
        balance: 'settle',
        idempotencyKey: 'books-abroad-1',
      }),
      200,
    );
    // The old books end at zero in EUR; nothing opens in USD (there was nothing to convert).
    const before = await ledgerOf(admin, c);
    expect(before.map((entry) => entry.currency)).toEqual(['EUR', 'EUR']);
    expect(new Money(before[0]!.balanceAfter).isZero()).toBe(true);
    const cut = new Date(Date.parse(before[0]!.createdAt) + 1);
    await recordMovement(suite.orm.em.fork(), await actorOf('ops@ru.tb.test'), c, {
      kind: 'payment',
      amount: '25.00',
      reference: 'Paid to RU',
    });

    // A period from just after the transfer (a month after it, say) holds USD alone.
    const figures = await statementFigures(
      suite.orm.em.fork(),
      { id: c, currency: 'USD' },
      { period: 'after', start: cut, end: new Date(Date.now() + 60_000) },
    );
    expect(figures.currency).toBe('USD');
    expect(new Money(figures.openingBalance).isZero()).toBe(true);
    expect(new Money(figures.paymentsTotal).eq('25')).toBe(true);
    expect(new Money(figures.closingBalance).eq('25')).toBe(true);
  });
});

describe('a transfer that moves money, retried', () => {
  it('takes a key: a retry answers the first move, once; the key for another move is 409', async () => {
    const c = await owingCustomer('C Retried', '30');
    const move = { toParentId: ids.R3, cardId: ids.card3, balance: 'settle' };
    // Without a key the money would move again on a retry: refused, naming the field.
    const keyless = await admin.post(`/customers/${c}/transfer`, move);
    expect(keyless.status).toBe(400);
    expect(keyless.body.error.fields).toEqual({
      idempotencyKey: 'is required when the transfer settles or converts the balance',
    });
    // The dry run writes nothing and needs none.
    expect((await admin.post(`/customers/${c}/transfer?dryRun=true`, move)).status).toBe(200);

    const keyed = { ...move, idempotencyKey: 'retried-move-0001' };
    const [first, racing] = await Promise.all([
      admin.post(`/customers/${c}/transfer`, keyed),
      admin.post(`/customers/${c}/transfer`, keyed),
    ]);
    expect([first.status, racing.status]).toEqual([200, 200]);
    expect(racing.body).toEqual(first.body);
    const again = await admin.post(`/customers/${c}/transfer`, keyed);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    // Settled once: one closing entry on the old books.
    const references = (await ledgerOf(admin, c)).map((entry) => entry.reference);
    expect(references.filter((ref) => ref?.startsWith('Transfer:'))).toHaveLength(1);

    const other = await admin.post(`/customers/${c}/transfer`, {
      ...keyed,
      toParentId: ids.R1,
    });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({
      code: 'idempotency_conflict',
      fields: { idempotencyKey: 'was used for another request' },
    });
  });
});

describe('a transfer keeping the balance, then people made in the customer', () => {
  // A customer with people is never transferred, so every user it has afterwards is of
  // the new side's making: one must not read, as the customer's own, what moved on the
  // old side's books (its prices, its payments, its statements).
  it('shows them only what moved on the new parent’s books', async () => {
    const c = await owingCustomer('C Kept', '40');
    const month = new Date().toISOString().slice(0, 7);
    const old = await ok(listeners.r1.client.post(`/accounts/${c}/statements`, { period: month }));
    await ok(
      admin.post(`/customers/${c}/transfer`, {
        toParentId: ids.R3,
        cardId: ids.card3,
        idempotencyKey: 'books-kept-1',
      }),
      200,
    );
    const r3 = listeners.r3.client;
    const group = (await ok(r3.post('/groups', { template: 'default-customer' }))).id;
    const email = 'self@c-kept.tb.test';
    await ok(r3.post('/users', { email, password: PASSWORD, accountId: c, groupId: group }));
    const own = await apiClient(suite.server.url, email, PASSWORD);
    await recordMovement(suite.orm.em.fork(), await actorOf('ops@r3.tb.test'), c, {
      kind: 'payment',
      amount: '15.00',
      reference: 'Paid to R3',
    });

    // The customer's own side: its balance as it stands, its movements since it came
    // under R3, none of R1's statements.
    const balance = await ok(own.get(`/accounts/${c}/balance`), 200);
    expect(new Money(balance.balance).eq('-25')).toBe(true);
    // The balance it came with is on R3's books as one opening, naming no one.
    const opened = 'Transfer: balance brought from the previous parent';
    expect((await ledgerOf(own, c)).map((entry) => [entry.reference, entry.amount])).toEqual([
      ['Paid to R3', '15.000000'],
      [opened, '-40.000000'],
    ]);
    expect((await ok(own.get('/statements'), 200)).items).toEqual([]);
    expect((await ok(own.get(`/accounts/${c}/statements`), 200)).items).toEqual([]);
    expect((await own.get(`/statements/${old.id}`)).status).toBe(404);
    expect((await own.get(`/statements/${old.id}/pdf`)).status).toBe(404);

    // Nor does R3 learn of R1's statements from what blocks the customer's deletion.
    const refused = await r3.del(`/customers/${c}`);
    expect(refused.status).toBe(409);
    const statements = refused.body.error.dependants.filter(
      (item: { resource: string }) => item.resource === 'statements',
    );
    expect(statements).toEqual([
      { resource: 'statements', id: c, name: 'statements issued by an earlier parent' },
    ]);

    // The carrier, above both sides, still reads all of it.
    expect((await ledgerOf(admin, c)).map((entry) => entry.reference)).toEqual([
      'Paid to R3',
      opened,
      'Transfer: balance carried to the new parent',
      'Calls of C Kept under R1',
    ]);
    expect((await ok(admin.get(`/statements/${old.id}`), 200)).id).toBe(old.id);
  });
});

describe('a transfer settling with a parent of a long name', () => {
  it('closes the old books with the reference cut to what a reference holds', async () => {
    const name = 'L'.repeat(200);
    const long = (await ok(admin.post('/resellers', { name, email: 'long@tb.test' }))).id;
    const c = (await ok(admin.post('/customers', { name: 'C Long', parentId: long }))).id;
    await recordMovement(suite.orm.em.fork(), await actorOf(ADMIN.email), c, {
      kind: 'adjustment',
      amount: '-7.00',
      reference: 'Calls under the long-named reseller',
    });
    await ok(
      admin.post(`/customers/${c}/transfer`, {
        toParentId: ids.R3,
        cardId: ids.card3,
        balance: 'settle',
        idempotencyKey: 'books-long-name-1',
      }),
      200,
    );
    const closing = (await ledgerOf(admin, c))[0]!;
    expect(closing.reference).toBe(`Transfer: balance settled with ${name}`.slice(0, 200));
    expect(new Money(closing.amount).eq('7')).toBe(true);
  });
});
