import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import { Money } from '@/lib/shared/pricing/money';
import { resolveActor, type TActor } from '@/lib/server/authz/actor';
import { User } from '@/lib/server/entities';
import { DomainError } from '@/lib/server/errors/domain-error';
import { recordMovement } from '@/lib/server/services/ledger/record-payment';
import { exportLedger } from '@/lib/server/services/ledger/list-ledger';
import { assertStillAdmitted, enter } from '@/lib/server/auth/door';
import { hashToken } from '@/lib/server/auth/api-token';
import { requestHash } from '@/lib/server/db/idempotent-request';
import type { TLedgerEntryDto, TLedgerKind } from '@/lib/shared/schemas/ledger';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { arrange } from '../fixtures/arrange';
import { apiClient, bearerCall, type TApiClient } from '../fixtures/api-client';
import { withProcessClockOff } from '../fixtures/process-clock';
import { listenAs, type TCookieListener } from '../fixtures/cookie-listener';
import { waitForLockWaiters } from '../fixtures/lock-waiters';

/**
 * Money along the chain (issue 17) over the real API, PostgreSQL and sockets: account
 * currencies on create, assign and transfer; the append-only ledger; idempotent
 * payments under concurrent retries; scoping of balances and ledgers; and, at the
 * service level, the balance invariant over a thousand random movements.
 */
const ADMIN = { email: 'admin@ledger.test', password: 'ledger-admin-pass' };
const PASSWORD = 'ledger-user-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
const ids = {} as Record<'C' | 'R1' | 'R2' | 'RU' | 'K1' | 'K2' | 'KU' | 'KX' | 'card', string>;

async function until(check: () => boolean, what: string) {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const listen = (client: TApiClient) => listenAs(suite.server.url, client);

/** A person of `accountId` in a new group (of the carrier's) holding `grants`, signed in. */
async function personWith(
  accountId: string,
  email: string,
  groupName: string,
  grants: string[],
): Promise<TApiClient> {
  const group = await admin.post('/groups', { name: groupName, grants });
  expect(group.status).toBe(201);
  const made = await admin.post('/users', {
    email,
    password: PASSWORD,
    accountId,
    groupId: group.body.id,
  });
  expect(made.status).toBe(201);
  return apiClient(suite.server.url, email, PASSWORD);
}
// The embedded database has one connection: a held lock would hold every request there.
// Under CI the suite always runs on a PostgreSQL server.
const embedded = inject('testDatabase').kind === 'pglite';

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@l.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@l.test' })).body.id;
  const ru = await admin.post('/resellers', { name: 'RU', email: 'ru@l.test', currency: 'USD' });
  expect(ru.status).toBe(201);
  ids.RU = ru.body.id;
  ids.K1 = (await admin.post('/customers', { name: 'K1', parentId: ids.R1 })).body.id;
  ids.K2 = (await admin.post('/customers', { name: 'K2', parentId: ids.R2 })).body.id;
  ids.KU = (
    await admin.post('/customers', { name: 'KU', parentId: ids.RU, creditLimit: '50' })
  ).body.id;
  ids.KX = (await admin.post('/customers', { name: 'KX', creditLimit: '20.5' })).body.id;
  ids.card = (
    await admin.post('/cards', { name: 'Retail EUR', currency: 'EUR', kind: 'customer' })
  ).body.id;
  for (const [email, accountId] of [
    ['ops@r1.l.test', ids.R1],
    ['ops@r2.l.test', ids.R2],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId,
      groupId: group.id,
    });
    expect(made.status).toBe(201);
  }
  r1 = await apiClient(suite.server.url, 'ops@r1.l.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@r2.l.test', PASSWORD);
});

describe('account currency', () => {
  it('defaults to the parent’s, is chosen at creation and never edited', async () => {
    expect((await admin.get(`/resellers/${ids.R1}`)).body.currency).toBe('EUR');
    const ru = (await admin.get(`/resellers/${ids.RU}`)).body;
    expect(ru).toMatchObject({ currency: 'USD', balance: '0.000000' });
    expect((await admin.get(`/customers/${ids.KU}`)).body.currency).toBe('USD');
    const listed = (await admin.get(`/customers?parentId=${ids.RU}`)).body.items;
    expect(listed.map((item: { currency: string }) => item.currency)).toEqual(['USD']);

    const bad = await admin.post('/customers', { name: 'Bad', currency: 'euro' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('currency');

    const edit = await admin.patch(`/resellers/${ids.RU}`, {
      version: ru.version,
      currency: 'EUR',
    });
    expect(edit.status).toBe(400);
    expect(edit.body.error.fields).toEqual({ currency: 'is fixed once the account exists' });
    const same = await admin.patch(`/resellers/${ids.RU}`, {
      version: ru.version,
      currency: 'USD',
    });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(ru.version);
  });

  it('refuses a card in another currency, alone and in bulk, writing nothing', async () => {
    const single = await admin.post('/assignments', { cardId: ids.card, accountId: ids.RU });
    expect(single.status).toBe(409);
    expect(single.body.error).toMatchObject({
      code: 'currency_mismatch',
      cardCurrency: 'EUR',
      accountCurrency: 'USD',
    });
    const bulk = await admin.post('/assignments/bulk', {
      cardId: ids.card,
      accountIds: [ids.R2, ids.RU],
    });
    expect(bulk.status).toBe(409);
    expect(bulk.body.error.code).toBe('currency_mismatch');
    const held = await admin.get(`/assignments?accountId=${ids.R2}`);
    expect(held.body.items).toEqual([]);
    const fine = await admin.post('/assignments', { cardId: ids.card, accountId: ids.R2 });
    expect(fine.status).toBe(201);
  });

  it('moves a customer across currencies only with a rate, converting through the ledger', async () => {
    const paid = await admin.post(`/accounts/${ids.KU}/payments`, {
      amount: '10.25',
      idempotencyKey: 'ku-first-payment',
    });
    expect(paid.status).toBe(201);
    const refused = await admin.post(`/customers/${ids.KU}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'currency_mismatch',
      fromCurrency: 'USD',
      toCurrency: 'EUR',
    });
    const sameCurrencyRate = await admin.post(`/customers/${ids.K1}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
      rate: '1.1',
      idempotencyKey: 'ledger-move-same',
    });
    expect(sameCurrencyRate.status).toBe(400);
    expect(sameCurrencyRate.body.error.fields).toHaveProperty('rate');
    const badRate = await admin.post(`/customers/${ids.KU}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
      rate: '0',
    });
    expect(badRate.status).toBe(400);
    expect(badRate.body.error.fields).toHaveProperty('rate');

    const moved = await admin.post(`/customers/${ids.KU}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
      rate: '0.9',
      idempotencyKey: 'ledger-move-ku',
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      parentId: ids.C,
      currency: 'EUR',
      creditLimit: '45.000000',
      balance: '9.225000',
    });
    // Its retry with the same rate written another way is the same move, answered again.
    const movedAgain = await admin.post(`/customers/${ids.KU}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
      rate: '0.90',
      idempotencyKey: 'ledger-move-ku',
    });
    expect(movedAgain.status).toBe(200);
    expect(movedAgain.body).toMatchObject({ parentId: ids.C, balance: '9.225000' });
    // A key stored before the rate had a canonical form (hashed as written) still
    // answers its retry.
    await suite.orm.em
      .fork()
      .getConnection()
      .execute(`update transfer_request set request_hash = ? where idempotency_key = ?`, [
        requestHash([ids.KU, ids.C, ids.card, '0.9', 'keep']),
        'ledger-move-ku',
      ]);
    const movedBeforehand = await admin.post(`/customers/${ids.KU}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
      rate: '0.9',
      idempotencyKey: 'ledger-move-ku',
    });
    expect(movedBeforehand.status).toBe(200);
    expect(movedBeforehand.body).toMatchObject({ parentId: ids.C, balance: '9.225000' });
    // The first payment retried by a client that never saw its answer is that payment
    // still: not a refusal inviting a second one in the new currency.
    const retried = await admin.post(`/accounts/${ids.KU}/payments`, {
      amount: '10.25',
      currency: 'USD',
      idempotencyKey: 'ku-first-payment',
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      replayed: true,
      entry: { id: paid.body.entry.id, amount: '10.250000', currency: 'USD' },
      balance: { balance: '9.225000', currency: 'EUR' },
    });
    // The key with the figures said in another currency is another request.
    const otherCurrency = await admin.post(`/accounts/${ids.KU}/payments`, {
      amount: '10.25',
      currency: 'EUR',
      idempotencyKey: 'ku-first-payment',
    });
    expect(otherCurrency.status).toBe(409);
    expect(otherCurrency.body.error.code).toBe('idempotency_conflict');
    const ledger = (await admin.get(`/accounts/${ids.KU}/ledger`)).body.items;
    expect(
      ledger.map((entry: Record<string, string>) => [
        entry.kind,
        entry.amount,
        entry.currency,
        entry.counterpartyId,
      ]),
    ).toEqual([
      ['adjustment', '9.225000', 'EUR', ids.C],
      ['adjustment', '-10.250000', 'USD', ids.RU],
      ['payment', '10.250000', 'USD', ids.RU],
    ]);
    const audit = await admin.get(`/audit?entityId=${ids.KU}&limit=10`);
    const transfer = audit.body.items.find(
      (entry: { summary: { reason?: string } | null }) => entry.summary?.reason === 'transfer',
    );
    expect(transfer.summary.conversion).toEqual({ from: 'USD', to: 'EUR', rate: '0.9' });

    // A balance the rate rounds to nothing is closed and not reopened (no zero entry).
    const tiny = (await admin.post('/customers', { name: 'Tiny', parentId: ids.RU })).body.id;
    await admin.post(`/accounts/${tiny}/payments`, {
      amount: '0.000001',
      idempotencyKey: 'tiny-payment-1',
    });
    const rounded = await admin.post(`/customers/${tiny}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
      rate: '0.1',
      idempotencyKey: 'ledger-move-tiny',
    });
    expect(rounded.status).toBe(200);
    expect(rounded.body).toMatchObject({ currency: 'EUR', balance: '0.000000' });
    const tinyLedger = (await admin.get(`/accounts/${tiny}/ledger`)).body.items;
    expect(tinyLedger.map((entry: { amount: string }) => entry.amount)).toEqual([
      '-0.000001',
      '0.000001',
    ]);
  });
});

describe('payments', () => {
  it('moves the balance once per key; a different body under the key is 409', async () => {
    const first = await admin.post(`/accounts/${ids.K1}/payments`, {
      amount: '100.50',
      reference: 'INV-1',
      idempotencyKey: 'k1-payment-0001',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      replayed: false,
      entry: { kind: 'payment', amount: '100.500000', currency: 'EUR', reference: 'INV-1' },
      balance: { balance: '100.500000', currency: 'EUR', available: '100.500000' },
    });
    const again = await admin.post(`/accounts/${ids.K1}/payments`, {
      amount: '100.5',
      reference: 'INV-1',
      idempotencyKey: 'k1-payment-0001',
    });
    expect(again.status).toBe(200);
    expect(again.body.replayed).toBe(true);
    expect(again.body.entry.id).toBe(first.body.entry.id);
    expect(again.body.balance.balance).toBe('100.500000');
    const other = await admin.post(`/accounts/${ids.K1}/payments`, {
      amount: '7',
      reference: 'INV-1',
      idempotencyKey: 'k1-payment-0001',
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    // It says what the key recorded: a client whose first answer was lost can tell the
    // person that payment landed.
    expect(other.body.error.current).toEqual({
      kind: 'payment',
      amount: '100.500000',
      currency: first.body.entry.currency,
      reference: 'INV-1',
      at: first.body.entry.createdAt,
    });
    expect((await admin.get(`/accounts/${ids.K1}/balance`)).body.balance).toBe('100.500000');
  });

  it('answers the retry of a payment keyed before empty references were stored as none', async () => {
    // As e5947f3's predecessor wrote it: the empty reference kept, and hashed, as "".
    const made = await admin.post('/customers', { name: 'K legacy key', parentId: ids.R1 });
    expect(made.status).toBe(201);
    const legacy = createHash('sha256')
      .update(JSON.stringify(['payment', '1.000000', '']))
      .digest('hex');
    // Written behind the API's back, as that code wrote it: the entry and its balance.
    const em = suite.orm.em.fork();
    const entry = await arrange(em, async () => {
      const [row] = await em.execute<{ id: string }[]>(
        `insert into ledger_entry (account_id, counterparty_id, kind, amount, currency, balance_after,
           reference, idempotency_key, request_hash, actor_user_id, actor_account_id, created_at)
         select ?, ?, 'payment', 1, 'EUR', 1, '', 'legacy-empty-reference', ?, u.id, ?, now()
           from app_user u where u.email = ?
         returning id::text as id`,
        [made.body.id, ids.R1, legacy, ids.C, ADMIN.email],
      );
      await em.execute(`update account set balance = 1 where id = ?`, [made.body.id]);
      return row;
    });
    const retried = await admin.post(`/accounts/${made.body.id}/payments`, {
      amount: '1',
      reference: '',
      idempotencyKey: 'legacy-empty-reference',
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ replayed: true, entry: { id: entry!.id } });
  });

  it('cuts a settlement’s reference after a whole character, never inside an emoji', async () => {
    // 31 characters of sentence, then the name: its emoji straddles UTF-16 unit 200.
    const name = `${'a'.repeat(168)}😀${'b'.repeat(30)}`;
    const reseller = await admin.post('/resellers', { name, email: 'long-name@l.test' });
    expect(reseller.status).toBe(201);
    const customer = await admin.post('/customers', { name: 'K long', parentId: reseller.body.id });
    expect(customer.status).toBe(201);
    const id = customer.body.id as string;
    const paid = await admin.post(`/accounts/${id}/payments`, {
      amount: '1',
      idempotencyKey: 'long-name-payment',
    });
    expect(paid.status).toBe(201);
    const moved = await admin.post(`/customers/${id}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
      balance: 'settle',
      idempotencyKey: 'long-name-settle',
    });
    expect(moved.status).toBe(200);
    const ledger = (await admin.get(`/accounts/${id}/ledger`)).body.items as TLedgerEntryDto[];
    expect(ledger.map((entry) => entry.reference)).toContain(
      `Transfer: balance settled with ${'a'.repeat(168)}😀`,
    );
    expect(JSON.stringify(ledger)).not.toContain('\uFFFD');
  });

  it('takes a retry that leaves out an empty reference as the same payment', async () => {
    const made = await admin.post('/customers', { name: 'K empty reference', parentId: ids.R1 });
    expect(made.status).toBe(201);
    const path = `/accounts/${made.body.id}/payments`;
    const first = await admin.post(path, {
      amount: '5',
      reference: '',
      idempotencyKey: 'empty-reference-1',
    });
    expect(first.status).toBe(201);
    expect(first.body.entry.reference).toBeNull();
    const again = await admin.post(path, { amount: '5.00', idempotencyKey: 'empty-reference-1' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ replayed: true, entry: { id: first.body.entry.id } });
    expect((await admin.get(`/accounts/${made.body.id}/balance`)).body.balance).toBe('5.000000');
  });

  it('keeps each recording side’s keys apart: another side’s same key is its own payment', async () => {
    // R1 and the carrier may both record K1's payments, each with its own invoice numbers.
    const before = (await admin.get(`/accounts/${ids.K1}/balance`)).body.balance;
    const body = { amount: '50', idempotencyKey: 'INV-1001' };
    const carriers = await admin.post(`/accounts/${ids.K1}/payments`, body);
    expect(carriers.status).toBe(201);
    const resellers = await r1.post(`/accounts/${ids.K1}/payments`, body);
    expect(resellers.status).toBe(201);
    expect(resellers.body.replayed).toBe(false);
    expect(resellers.body.entry.id).not.toBe(carriers.body.entry.id);
    // Each side's key still guards its own payment.
    const again = await r1.post(`/accounts/${ids.K1}/payments`, { ...body, amount: '20' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('idempotency_conflict');
    const replay = await admin.post(`/accounts/${ids.K1}/payments`, body);
    expect(replay.body).toMatchObject({ replayed: true, entry: { id: carriers.body.entry.id } });
    const after = (await admin.get(`/accounts/${ids.K1}/balance`)).body.balance;
    expect(new Money(after).minus(before).toFixed(6)).toBe('100.000000');
  });

  it('refuses a key sent again for another account: one key, one movement of one account', async () => {
    // A client that retries a payment against the wrong account id must not pay twice.
    const body = { amount: '12', idempotencyKey: 'retry-to-another-account' };
    const first = await admin.post(`/accounts/${ids.K1}/payments`, body);
    expect(first.status).toBe(201);
    const before = (await admin.get(`/accounts/${ids.K2}/balance`)).body.balance;
    const elsewhere = await admin.post(`/accounts/${ids.K2}/payments`, body);
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error).toMatchObject({
      code: 'idempotency_conflict',
      fields: { idempotencyKey: 'was used for another account' },
    });
    // Nothing of the other account's entry is told.
    expect(elsewhere.body.error.current).toBeUndefined();
    expect((await admin.get(`/accounts/${ids.K2}/balance`)).body.balance).toBe(before);
    // A correction under the same key is the same request changed, on either account.
    const corrected = await admin.post(`/accounts/${ids.K2}/adjustments`, {
      kind: 'credit_note',
      amount: '12',
      reason: 'wrong account',
      idempotencyKey: body.idempotencyKey,
    });
    expect(corrected.status).toBe(409);
    // Its own account's replay still answers the first payment.
    const replay = await admin.post(`/accounts/${ids.K1}/payments`, body);
    expect(replay.body).toMatchObject({ replayed: true, entry: { id: first.body.entry.id } });
  });

  it.skipIf(embedded)(
    'pays once when one key is sent for two accounts at the same instant',
    async () => {
      // Each request locks only its own account: both asked for the key before either had
      // committed, found nothing and paid. The carrier's log head is held here so that both
      // are inside their transactions, past any lookup they make, before either commits.
      const body = { amount: '7', idempotencyKey: 'same-key-two-accounts-at-once' };
      const before = await Promise.all(
        [ids.K1, ids.K2].map(async (id) => (await admin.get(`/accounts/${id}/balance`)).body),
      );
      let answers!: Promise<{ status: number; body: { error?: { code: string } } }[]>;
      await suite.orm.em.fork().transactional(async (tx) => {
        await tx.execute('select 1 from carrier_log_head where carrier_id = ? for update', [ids.C]);
        answers = Promise.all([
          admin.post(`/accounts/${ids.K1}/payments`, body),
          admin.post(`/accounts/${ids.K2}/payments`, body),
        ]);
        await waitForLockWaiters(suite.orm, 2);
      });
      const statuses = (await answers).map((answer) => answer.status).sort();
      expect(statuses).toEqual([201, 409]);
      const moved = await Promise.all(
        [ids.K1, ids.K2].map(async (id, at) =>
          new Money((await admin.get(`/accounts/${id}/balance`)).body.balance)
            .minus(before[at].balance)
            .toFixed(6),
        ),
      );
      expect(moved.sort()).toEqual(['0.000000', '7.000000']);
    },
  );

  it('dates entries by the database’s clock, not a process clock running behind', async () => {
    // A statement splits months by entry time and reads balances by id: an entry from a
    // process whose clock is late must not be dated before the entry it follows.
    const pay = (key: string) =>
      admin.post(`/accounts/${ids.K1}/payments`, { amount: '1', idempotencyKey: key });
    expect((await pay('k1-clock-0001')).status).toBe(201);
    await withProcessClockOff(-60_000, async () => {
      expect((await pay('k1-clock-0002')).status).toBe(201);
    });
    const rows = await suite.orm.em.fork().execute<{ at: string }[]>(
      `select (extract(epoch from created_at) * 1000)::text as at from ledger_entry
          where account_id = ? order by id`,
      [ids.K1],
    );
    const times = rows.map((row) => Number(row.at));
    expect(times.length).toBeGreaterThan(1);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('refuses negative, zero, over-precise and numeric amounts naming the field', async () => {
    for (const amount of ['-5', '0', '0.000', '1.1234567', 5, '1e3', '']) {
      const bad = await admin.post(`/accounts/${ids.K1}/payments`, {
        amount,
        idempotencyKey: 'k1-bad-amount',
      });
      expect(bad.status, String(amount)).toBe(400);
      expect(bad.body.error.fields).toHaveProperty('amount');
    }
    const noKey = await admin.post(`/accounts/${ids.K1}/payments`, { amount: '1' });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.fields).toHaveProperty('idempotencyKey');
  });

  it('takes an amount or a rate only in the currency the caller saw (409 otherwise)', async () => {
    // KX is kept in EUR: an amount typed as USD (the account read before a transfer
    // converted it, say) is refused whole, naming the field.
    const before = (await admin.get(`/accounts/${ids.KX}/ledger`)).body.items.length;
    const stale = await admin.post(`/accounts/${ids.KX}/payments`, {
      amount: '5',
      currency: 'USD',
      idempotencyKey: 'kx-stale-currency',
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({
      code: 'currency_changed',
      fields: { currency: 'is EUR now' },
    });
    expect((await admin.get(`/accounts/${ids.KX}/ledger`)).body.items).toHaveLength(before);
    const seen = await admin.post(`/accounts/${ids.KX}/payments`, {
      amount: '5',
      currency: 'EUR',
      idempotencyKey: 'kx-seen-currency',
    });
    expect(seen.status).toBe(201);
    expect(seen.body.entry).toMatchObject({ amount: '5.000000', currency: 'EUR' });

    // A transfer's rate converts from the currency it names, in its dry run too.
    const move = { toParentId: ids.RU, cardId: ids.card, rate: '1.1', fromCurrency: 'GBP' };
    for (const path of [
      `/customers/${ids.KX}/transfer?dryRun=true`,
      `/customers/${ids.KX}/transfer`,
    ]) {
      const refused = await admin.post(path, { ...move, idempotencyKey: 'kx-stale-rate' });
      expect([path, refused.status, refused.body.error?.fields]).toEqual([
        path,
        409,
        { fromCurrency: 'is EUR now' },
      ]);
    }
    expect((await admin.get(`/customers/${ids.KX}`)).body).toMatchObject({
      parentId: ids.C,
      currency: 'EUR',
    });
  });

  it('counts concurrent retries of one key once', async () => {
    const before = (await admin.get(`/accounts/${ids.K2}/balance`)).body.balance;
    const attempts = await Promise.all(
      Array.from({ length: 12 }, () =>
        admin.post(`/accounts/${ids.K2}/payments`, {
          amount: '3.333333',
          idempotencyKey: 'k2-concurrent-retry',
        }),
      ),
    );
    expect(attempts.map((a) => a.status).sort()).toEqual([
      ...Array.from({ length: 11 }, () => 200),
      201,
    ]);
    expect(new Set(attempts.map((a) => a.body.entry.id)).size).toBe(1);
    const after = (await admin.get(`/accounts/${ids.K2}/balance`)).body.balance;
    expect(new Money(after).minus(before).toFixed(6)).toBe('3.333333');
    const [counted] = await suite.orm.em
      .fork()

      .execute<{ count: number }[]>(
        `select count(*)::int as count from ledger_entry where idempotency_key = 'k2-concurrent-retry'`,
      );
    expect(counted?.count).toBe(1);
  });

  it('is recorded by the parent side only: outsiders 404, an account never pays itself', async () => {
    const own = await admin.post(`/accounts/${ids.C}/payments`, {
      amount: '1',
      idempotencyKey: 'carrier-self-pay',
    });
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('own_account');
    const self = await r1.post(`/accounts/${ids.R1}/payments`, {
      amount: '1',
      idempotencyKey: 'r1-self-pay-1',
    });
    expect(self.status).toBe(403);
    const sibling = await r1.post(`/accounts/${ids.K2}/payments`, {
      amount: '1',
      idempotencyKey: 'r1-sibling-pay',
    });
    expect(sibling.status).toBe(404);
    const parent = await r1.post(`/accounts/${ids.C}/payments`, {
      amount: '1',
      idempotencyKey: 'r1-parent-pay',
    });
    expect(parent.status).toBe(404);
    const mine = await r1.post(`/accounts/${ids.K1}/payments`, {
      amount: '0.5',
      idempotencyKey: 'r1-pays-k1',
    });
    expect(mine.status).toBe(201);
    expect(mine.body.entry.by).toMatchObject({ kind: 'user', email: 'ops@r1.l.test' });
    expect(mine.body.entry.counterpartyId).toBe(ids.R1);
  });

  it('moves the balance live for the parent side and tells the account’s own people', async () => {
    const parentSide = await listen(r1);
    const sibling = await listen(r2);
    try {
      const paid = await admin.post(`/accounts/${ids.K1}/payments`, {
        amount: '2',
        idempotencyKey: 'k1-live-payment',
      });
      expect(paid.status).toBe(201);
      await until(
        () => parentSide.received.some((e) => e.type === 'customers.updated' && e.id === ids.K1),
        'the payment on R1’s socket',
      );
      const event = parentSide.received.find((e) => e.id === ids.K1)!;
      expect((event.data as { balance: string }).balance).toBe(paid.body.balance.balance);
      expect(event.summary).toMatchObject({
        reason: 'ledger',
        kind: 'payment',
        amount: '2.000000',
      });
      // R2 hears of its own things only: a payment of its own customer arrives, K1's never.
      await admin.post(`/accounts/${ids.K2}/payments`, {
        amount: '1',
        idempotencyKey: 'k2-live-payment',
      });
      await until(() => sibling.received.some((e) => e.id === ids.K2), 'K2’s payment on R2');
      expect(sibling.received.some((e) => e.id === ids.K1)).toBe(false);
    } finally {
      parentSide.socket.disconnect();
      sibling.socket.disconnect();
    }
  });
});

describe('corrections: credit notes and adjustments', () => {
  it('takes back a payment typed wrong and gives back a disputed call, as new entries', async () => {
    const id = (await admin.post('/customers', { name: 'KC', parentId: ids.R1, creditLimit: '0' }))
      .body.id;
    const wrong = await r1.post(`/accounts/${id}/payments`, {
      amount: '1000',
      idempotencyKey: 'kc-typed-wrong',
    });
    expect(wrong.body.balance).toMatchObject({ balance: '1000.000000', creditBlocked: false });
    // Meant 100.0: the 900 nobody paid is taken back, which leaves it 100.
    const back = await r1.post(`/accounts/${id}/adjustments`, {
      kind: 'adjustment',
      amount: '-900',
      currency: 'EUR',
      reason: 'Payment kc-typed-wrong was 100.00, typed 1000',
      idempotencyKey: 'kc-take-back-900',
    });
    expect(back.status).toBe(201);
    expect(back.body).toMatchObject({
      replayed: false,
      entry: {
        kind: 'adjustment',
        amount: '-900.000000',
        reference: 'Payment kc-typed-wrong was 100.00, typed 1000',
        counterpartyId: ids.R1,
        by: { kind: 'user', email: 'ops@r1.l.test' },
      },
      balance: { balance: '100.000000' },
    });
    // Down to its limit (0): blocked for credit, as any debit that uses it up.
    const more = await r1.post(`/accounts/${id}/adjustments`, {
      kind: 'adjustment',
      amount: '-100',
      reason: 'Setup fee',
      idempotencyKey: 'kc-setup-fee',
    });
    expect(more.body.balance).toMatchObject({ balance: '0.000000', creditBlocked: true });
    const credit = await r1.post(`/accounts/${id}/adjustments`, {
      kind: 'credit_note',
      amount: '0.25',
      reason: 'Disputed call to 441481',
      idempotencyKey: 'kc-disputed-call',
    });
    expect(credit.status).toBe(201);
    expect(credit.body.balance).toMatchObject({ balance: '0.250000', creditBlocked: false });
    // A retry counts once; the same key for another correction is 409.
    const retry = await r1.post(`/accounts/${id}/adjustments`, {
      kind: 'credit_note',
      amount: '0.25',
      reason: 'Disputed call to 441481',
      idempotencyKey: 'kc-disputed-call',
    });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ replayed: true, entry: { id: credit.body.entry.id } });
    const reused = await r1.post(`/accounts/${id}/adjustments`, {
      kind: 'credit_note',
      amount: '0.30',
      reason: 'Disputed call to 441481',
      idempotencyKey: 'kc-disputed-call',
    });
    expect(reused.status).toBe(409);
    const ledger = (await r1.get(`/accounts/${id}/ledger`)).body.items;
    expect(ledger.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).toEqual([
      ['credit_note', '0.250000'],
      ['adjustment', '-100.000000'],
      ['adjustment', '-900.000000'],
      ['payment', '1000.000000'],
    ]);
    expect((await r1.get(`/accounts/${id}/balance`)).body.balance).toBe('0.250000');
  });

  it('refuses a bad correction naming the field, writing nothing', async () => {
    const before = (await admin.get(`/accounts/${ids.K1}/ledger`)).body.items.length;
    const post = (body: object) =>
      admin.post(`/accounts/${ids.K1}/adjustments`, { idempotencyKey: 'k1-bad-fix', ...body });
    const cases: [object, string][] = [
      [{ kind: 'credit_note', amount: '-5', reason: 'x' }, 'amount'],
      [{ kind: 'adjustment', amount: '0.000', reason: 'x' }, 'amount'],
      [{ kind: 'adjustment', amount: '1.1234567', reason: 'x' }, 'amount'],
      [{ kind: 'adjustment', amount: 5, reason: 'x' }, 'amount'],
      [{ kind: 'adjustment', amount: '5', reason: '  ' }, 'reason'],
      [{ kind: 'adjustment', amount: '5' }, 'reason'],
      [{ kind: 'payment', amount: '5', reason: 'x' }, 'kind'],
      [{ kind: 'usage', amount: '-5', reason: 'x' }, 'kind'],
    ];
    for (const [body, field] of cases) {
      const refused = await post(body);
      expect([JSON.stringify(body), refused.status]).toEqual([JSON.stringify(body), 400]);
      expect(refused.body.error.fields).toHaveProperty(field);
    }
    const stale = await post({ kind: 'adjustment', amount: '5', reason: 'x', currency: 'USD' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('currency_changed');
    expect((await admin.get(`/accounts/${ids.K1}/ledger`)).body.items).toHaveLength(before);
  });

  it('needs adjustments:create on the parent side: payments alone, a sibling or itself refused', async () => {
    const clerk = await personWith(ids.R1, 'clerk@r1.l.test', 'Payments clerk', [
      'customers:read',
      'ledger:read',
      'payments:create',
    ]);
    const body = { kind: 'adjustment', amount: '-1', reason: 'fee', idempotencyKey: 'fix-grant-1' };
    expect((await clerk.post(`/accounts/${ids.K1}/adjustments`, body)).status).toBe(403);
    expect((await r1.post(`/accounts/${ids.K2}/adjustments`, body)).status).toBe(404);
    const own = await r1.post(`/accounts/${ids.R1}/adjustments`, body);
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('own_account');
    expect((await r1.post(`/accounts/${ids.C}/adjustments`, body)).status).toBe(404);
  });
});

describe('ledger details and the ledger:read grant', () => {
  it('tells an account reader without ledger:read that a balance moved, not the entry', async () => {
    // R1's people: one with the ledger grant (the default reseller group), one without.
    const blindGroup = await admin.post('/groups', {
      name: 'Customers, no ledger',
      grants: ['customers:read', 'audit:read'],
    });
    expect(blindGroup.status).toBe(201);
    const made = await admin.post('/users', {
      email: 'blind@r1.l.test',
      password: PASSWORD,
      accountId: ids.R1,
      groupId: blindGroup.body.id,
    });
    expect(made.status).toBe(201);
    const blind = await apiClient(suite.server.url, 'blind@r1.l.test', PASSWORD);
    const seeing = await listen(r1);
    const notSeeing = await listen(blind);
    try {
      const paid = await admin.post(`/accounts/${ids.K1}/payments`, {
        amount: '3',
        idempotencyKey: 'k1-blind-payment',
      });
      expect(paid.status).toBe(201);
      const arrived = (listener: TCookieListener) => () =>
        listener.received.some((e) => e.type === 'customers.updated' && e.id === ids.K1);
      await until(arrived(seeing), 'the payment on the ledger reader’s socket');
      await until(arrived(notSeeing), 'the balance on the other socket');
      const live = (listener: TCookieListener) =>
        listener.received.find((e) => e.type === 'customers.updated' && e.id === ids.K1)!;
      expect(live(seeing).summary).toMatchObject({
        reason: 'ledger',
        kind: 'payment',
        amount: '3.000000',
      });
      // The balance is on the account for both; the entry behind it only for the first.
      const told = live(notSeeing);
      expect((told.data as { balance: string }).balance).toBe(paid.body.balance.balance);
      expect(told.summary).toEqual({ reason: 'balance' });
      // The same in catch-up and in the audit.
      const caught = (await blind.get(`/events?since=${notSeeing.hello.seq}`)).body
        .items as TChangeEnvelope[];
      expect(caught.find((e) => e.id === ids.K1)?.summary).toEqual({ reason: 'balance' });
      const audit = await blind.get(`/audit?entityId=${ids.K1}`);
      expect(audit.status).toBe(200);
      const entries = audit.body.items as { summary: Record<string, unknown> | null }[];
      expect(entries.length).toBeGreaterThan(0);
      expect(JSON.stringify(entries)).not.toContain('k1-blind-payment');
      expect(entries.filter((entry) => entry.summary?.reason === 'ledger')).toEqual([]);
      expect(entries.some((entry) => entry.summary?.reason === 'balance')).toBe(true);
      expect((await blind.get(`/accounts/${ids.K1}/ledger`)).status).toBe(403);
    } finally {
      seeing.socket.disconnect();
      notSeeing.socket.disconnect();
    }
  });
});

describe('ledger and balance reads', () => {
  it('pages and filters the ledger for the account’s own side and above', async () => {
    const pageOne = await admin.get(`/accounts/${ids.K1}/ledger?limit=2`);
    expect(pageOne.status).toBe(200);
    expect(pageOne.body.items).toHaveLength(2);
    const pageTwo = await admin.get(
      `/accounts/${ids.K1}/ledger?limit=2&cursor=${pageOne.body.nextCursor}`,
    );
    const all = (await admin.get(`/accounts/${ids.K1}/ledger`)).body.items;
    expect([...pageOne.body.items, ...pageTwo.body.items].map((e) => e.id)).toEqual(
      all.slice(0, 4).map((e: { id: string }) => e.id),
    );
    const payments = await admin.get(
      `/accounts/${ids.K1}/ledger?kind=payment&from=2000-01-01T00:00:00Z`,
    );
    expect(payments.body.items.length).toBe(all.length);
    const none = await admin.get(`/accounts/${ids.K1}/ledger?to=2000-01-01T00:00:00Z`);
    expect(none.body.items).toEqual([]);
    const badKind = await admin.get(`/accounts/${ids.K1}/ledger?kind=gift`);
    expect(badKind.status).toBe(400);
    expect(badKind.body.error.fields).toHaveProperty('kind');
    const badCursor = await admin.get(`/accounts/${ids.K1}/ledger?cursor=abc`);
    expect(badCursor.status).toBe(400);

    expect((await r1.get(`/accounts/${ids.K1}/ledger`)).status).toBe(200);
    expect((await r1.get(`/accounts/${ids.R1}/balance`)).status).toBe(200);
  });

  it('exports the ledger as listed, oldest first, with its filters and scope', async () => {
    // Each viewer's file is its list, oldest first: people named as the list names them.
    const asListed = async (client: TApiClient) => {
      const listed = (await client.get(`/accounts/${ids.K1}/ledger?limit=500`)).body.items;
      return [...listed]
        .reverse()
        .map((entry: TLedgerEntryDto) =>
          [
            entry.id,
            entry.createdAt,
            entry.kind,
            entry.amount,
            entry.currency,
            entry.balanceAfter,
            entry.reference ?? '',
            entry.by.kind === 'user' ? entry.by.email : entry.by.name,
            entry.counterpartyId ?? '',
          ].join(','),
        );
    };
    const header = 'id,createdAt,kind,amount,currency,balanceAfter,reference,by,counterpartyId';
    for (const client of [admin, r1]) {
      const response = await client.raw('GET', `/accounts/${ids.K1}/ledger/export`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(response.headers.get('content-disposition')).toContain('K1-ledger.csv');
      const expected = await asListed(client);
      expect(expected.length).toBeGreaterThan(1);
      expect(response.text).toBe([header, ...expected].join('\r\n') + '\r\n');
    }
    // The reseller is not told who at the carrier recorded a payment.
    const own = await r1.raw('GET', `/accounts/${ids.K1}/ledger/export`);
    expect(own.text).not.toContain(ADMIN.email);
    const none = await admin.raw(
      'GET',
      `/accounts/${ids.K1}/ledger/export?to=2000-01-01T00:00:00Z`,
    );
    expect(none.text).toBe(`${header}\r\n`);
    const payments = await admin.raw('GET', `/accounts/${ids.K1}/ledger/export?kind=payment`);
    const paymentLines = payments.text.trim().split('\r\n').slice(1);
    const listedPayments = (await admin.get(`/accounts/${ids.K1}/ledger?kind=payment&limit=500`))
      .body.items;
    expect(paymentLines.map((line) => line.split(',')[0])).toEqual(
      [...listedPayments].reverse().map((entry: TLedgerEntryDto) => entry.id),
    );
    const bad = await admin.raw('GET', `/accounts/${ids.K1}/ledger/export?kind=gift`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.fields).toHaveProperty('kind');
    // A sibling reseller gets 404, not an empty file.
    expect((await r2.raw('GET', `/accounts/${ids.K1}/ledger/export`)).status).toBe(404);
    // A reader of ledgers who may not read customers gets the file named by the id, as
    // the usage summary names such accounts: the name is not its to learn.
    const books = await personWith(ids.C, 'books@l.test', 'Ledgers only', ['ledger:read']);
    const byId = await books.raw('GET', `/accounts/${ids.K1}/ledger/export`);
    expect(byId.status).toBe(200);
    expect(byId.headers.get('content-disposition')).toContain(`${ids.K1}-ledger.csv`);
    expect(byId.headers.get('content-disposition')).not.toContain('K1-ledger');
  });

  it('exports batch by batch: each row once, none recorded after it began; it stops when access goes', async () => {
    const em = suite.orm.em.fork();
    /**
     * A download as its route starts it, for a bearer token: the door's actor for the
     * token, and the door asked again before each batch.
     */
    const download = async (token: string, batch: number) => {
      const [row] = await em
        .getConnection()
        .execute<{ id: string }[]>('select id from api_token where token_hash = ?', [
          hashToken(token),
        ]);
      const ref = { kind: 'token' as const, tokenId: row!.id };
      const entered = await enter(em.fork(), { kind: 'resume', ref }, {});
      if (!entered.ok) throw new Error('the token was refused');
      const actor = entered.entry.actor;
      const stillAllowed = () => assertStillAdmitted(em.fork(), ref, actor);
      return (await exportLedger(em, actor, ids.K1, {}, { stillAllowed, batch })).stream;
    };
    const tokenOf = async (email: string, password: string) => {
      const issued = await requestToken(suite.server.url, email, password);
      expect(issued.status).toBe(201);
      return issued.body.token as string;
    };
    const whole = (await admin.raw('GET', `/accounts/${ids.K1}/ledger/export`)).text;
    expect(whole.split('\r\n').length).toBeGreaterThan(5);
    // Two rows a batch give the file one batch gave; a payment recorded once the export
    // has begun is the next download's.
    const started = await download(await tokenOf(ADMIN.email, ADMIN.password), 2);
    const late = await admin.post(`/accounts/${ids.K1}/payments`, {
      amount: '1',
      reference: 'after the export began',
      idempotencyKey: 'ledger-export-late',
    });
    expect(late.status).toBe(201);
    expect(await new Response(started).text()).toBe(whole);
    expect((await admin.raw('GET', `/accounts/${ids.K1}/ledger/export`)).text).toContain(
      'after the export began',
    );

    /** Reads the header and a first row, does `change`, and expects the next read to fail. */
    const cutShort = async (stream: ReadableStream<Uint8Array>, change: () => Promise<void>) => {
      const reader = stream.getReader();
      expect((await reader.read()).done).toBe(false); // the header
      expect((await reader.read()).done).toBe(false); // the first row
      await change();
      await expect(reader.read()).rejects.toMatchObject({ code: 'access_changed' });
    };
    // A reader disabled mid-download gets no further rows.
    const groupId = (await admin.get('/users?q=ops@r1.l.test')).body.items[0].groupId;
    const made = await admin.post('/users', {
      email: 'exporter@r1.l.test',
      password: PASSWORD,
      accountId: ids.R1,
      groupId,
    });
    expect(made.status).toBe(201);
    await cutShort(await download(await tokenOf('exporter@r1.l.test', PASSWORD), 1), async () => {
      const disabled = await admin.patch(`/users/${made.body.id}`, {
        version: made.body.version,
        status: 'disabled',
      });
      expect(disabled.status).toBe(200);
    });

    // Support viewing as R1's clerk: the view stopped mid-download ends it too.
    const me = (await admin.get('/me')).body.account.id as string;
    const support = await admin.post('/groups', {
      name: 'Ledger support',
      grants: ['impersonation:start', 'users:read', 'ledger:read', 'customers:read'],
    });
    expect(support.status).toBe(201);
    expect(
      (
        await admin.post('/users', {
          email: 'support@ledger.test',
          password: PASSWORD,
          accountId: me,
          groupId: support.body.id,
        })
      ).status,
    ).toBe(201);
    const supportToken = await tokenOf('support@ledger.test', PASSWORD);
    const clerk = (await admin.get('/users?q=ops@r1.l.test')).body.items[0].id as string;
    const viewing = await bearerCall(suite.server.url, supportToken, 'POST', '/impersonation', {
      userId: clerk,
      reason: 'ledger export check',
    });
    expect(viewing.status).toBe(201);
    await cutShort(await download(supportToken, 1), async () => {
      const stopped = await bearerCall(suite.server.url, supportToken, 'DELETE', '/impersonation');
      expect(stopped.status).toBe(204);
    });
  });

  it('never shows a sibling’s balance or ledger (404)', async () => {
    for (const path of [`/accounts/${ids.K1}/balance`, `/accounts/${ids.K1}/ledger`]) {
      expect((await r2.get(path)).status).toBe(404);
    }
    for (const path of [`/accounts/${ids.R1}/balance`, `/accounts/${ids.C}/ledger`]) {
      expect((await r2.get(path)).status).toBe(404);
    }
    expect((await r2.get(`/accounts/${ids.K2}/balance`)).status).toBe(200);
  });
});

describe('ledger immutability', () => {
  it('refuses UPDATE, DELETE and TRUNCATE in the database, whoever sends them', async () => {
    const em = suite.orm.em.fork();
    await expect(em.execute(`update ledger_entry set amount = 1000000`)).rejects.toThrow(
      /append-only/,
    );
    await expect(em.execute(`delete from ledger_entry`)).rejects.toThrow(/append-only/);
    await expect(em.execute(`truncate ledger_entry`)).rejects.toThrow(/append-only/);
    const [counted] = await em.execute<{ count: number }[]>(
      `select count(*)::int as count from ledger_entry`,
    );
    expect(counted?.count).toBeGreaterThan(0);
  });

  it('keeps an account with entries from being deleted (409 naming the ledger)', async () => {
    const current = (await admin.get(`/customers/${ids.K2}`)).body;
    expect(current.id).toBe(ids.K2);
    const gone = await admin.del(`/customers/${ids.K2}`);
    expect(gone.status).toBe(409);
    expect(gone.body.error.dependants).toContainEqual(
      expect.objectContaining({ resource: 'ledger' }),
    );
  });

  it('keeps a reseller on the books of a customer that moved away (409, not a failure)', async () => {
    const re = (await admin.post('/resellers', { name: 'RE', email: 're@l.test' })).body.id;
    const ke = (await admin.post('/customers', { name: 'KE', parentId: re })).body.id;
    const paid = await admin.post(`/accounts/${ke}/payments`, {
      amount: '4',
      idempotencyKey: 'ke-before-move-1',
    });
    expect(paid.status).toBe(201);
    // Its balance moves from RE's books to the carrier's: money, so it takes a key.
    const keyless = await admin.post(`/customers/${ke}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
    });
    expect(keyless.status).toBe(400);
    expect(keyless.body.error.fields).toEqual({
      idempotencyKey: 'is required when the customer has a balance, which the transfer moves',
    });
    const moved = await admin.post(`/customers/${ke}/transfer`, {
      toParentId: ids.C,
      cardId: ids.card,
      idempotencyKey: 'ke-move-1',
    });
    expect(moved.status).toBe(200);
    expect(moved.body.balance).toBe('4.000000');
    // Kept: closed on RE's books, opened on the carrier's, so each parent's entries with
    // KE add up to what KE holds with it — nothing with RE, 4 with the carrier.
    const entries = (await admin.get(`/accounts/${ke}/ledger`)).body.items as {
      counterpartyId: string;
      kind: string;
      amount: string;
      reference: string | null;
    }[];
    const books = new Map<string, string>();
    for (const entry of entries) {
      const sum = new Money(books.get(entry.counterpartyId) ?? '0').plus(entry.amount);
      books.set(entry.counterpartyId, sum.toFixed(6));
    }
    expect([...books].sort()).toEqual(
      [
        [re, '0.000000'],
        [ids.C, '4.000000'],
      ].sort(),
    );
    // Neither side is told where the customer went or came from.
    expect(entries.filter((entry) => entry.kind === 'adjustment').map((e) => e.reference)).toEqual([
      'Transfer: balance brought from the previous parent',
      'Transfer: balance carried to the new parent',
    ]);
    // RE has no account, user, group or card left, but KE's payment names it.
    const gone = await admin.del(`/resellers/${re}`);
    expect(gone.status).toBe(409);
    expect(gone.body.error.dependants).toContainEqual(
      expect.objectContaining({ resource: 'ledger', id: re }),
    );
  });
});

/** mulberry32: a small seeded generator, so a failure replays exactly. */
function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the balance invariant (property, service level)', () => {
  it('holds balance == sum of entries after 1,000 random movements', async () => {
    const em = suite.orm.em.fork();
    const user = await em.findOneOrFail(User, { email: ADMIN.email });
    const actor = (await resolveActor(em, {
      userId: user.id,
      sessionVersion: user.sessionVersion,
    })) as TActor;
    const accounts = [ids.R1, ids.R2, ids.RU, ids.K1, ids.K2, ids.KX];
    // Limits on some, so blocking flips on and off as the balances wander.
    for (const [path, limit] of [
      [`/resellers/${ids.R1}`, '3'],
      [`/customers/${ids.K1}`, '0'],
    ] as const) {
      const { version } = (await admin.get(path)).body;
      expect((await admin.patch(path, { version, creditLimit: limit })).status).toBe(200);
    }
    const rows = await em.execute<{ id: string; balance: string }[]>(
      `select id, balance from account where id = any(?::uuid[])`,
      [`{${accounts.join(',')}}`],
    );
    const expected = new Map(rows.map((row) => [row.id, new Money(row.balance)]));
    const keys: { account: string; key: string; amount: string; reference: string }[] = [];
    const random = seeded(1705);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const amount = () => (Math.floor(random() * 10_000_000) / 1_000_000 + 0.000001).toFixed(6);
    let replays = 0;
    let conflicts = 0;
    for (let op = 0; op < 1_000; op += 1) {
      const roll = random();
      if (roll < 0.15 && keys.length) {
        // A retry: the same key, the same body (counts nothing) or another (refused).
        const seen = pick(keys);
        const changed = random() < 0.3;
        try {
          const result = await recordMovement(em.fork(), actor, seen.account, {
            kind: 'payment',
            amount: changed ? amount() : seen.amount,
            reference: seen.reference,
            idempotencyKey: seen.key,
          });
          expect(result.replayed).toBe(true);
          replays += 1;
        } catch (error) {
          expect(changed, String(error)).toBe(true);
          expect((error as DomainError).code).toBe('idempotency_conflict');
          conflicts += 1;
        }
        continue;
      }
      const account = pick(accounts);
      const kind = pick<TLedgerKind>(['payment', 'credit_note', 'adjustment', 'usage']);
      const magnitude = amount();
      const signed =
        kind === 'usage' || (kind === 'adjustment' && random() < 0.5) ? `-${magnitude}` : magnitude;
      const key = kind === 'payment' ? `prop-${op}` : undefined;
      await recordMovement(em.fork(), actor, account, {
        kind,
        amount: signed,
        reference: `op ${op}`,
        ...(key ? { idempotencyKey: key } : {}),
      });
      if (key) keys.push({ account, key, amount: signed, reference: `op ${op}` });
      expected.set(account, expected.get(account)!.plus(signed));
    }
    expect(replays).toBeGreaterThan(0);
    expect(conflicts).toBeGreaterThan(0);

    const check = await em.execute<
      { id: string; balance: string; total: string | null; other: string | null }[]
    >(
      `select a.id, a.balance,
              (select sum(e.amount) from ledger_entry e
                where e.account_id = a.id and e.currency = a.currency) as total,
              (select sum(e.amount) from ledger_entry e
                where e.account_id = a.id and e.currency <> a.currency) as other
         from account a where a.kind <> 'carrier'`,
    );
    for (const row of check) {
      expect(new Money(row.balance).toFixed(6), row.id).toBe(new Money(row.total ?? 0).toFixed(6));
      // A converted account's old currency sums to nothing: it was closed out.
      expect(new Money(row.other ?? 0).isZero(), row.id).toBe(true);
      if (expected.has(row.id)) {
        expect(new Money(row.balance).toFixed(6)).toBe(expected.get(row.id)!.toFixed(6));
      }
    }
    // Each entry's balance-after is the running sum of its account's entries in its currency.
    const broken = await em.execute<{ id: string }[]>(
      `select id from (
         select id, balance_after,
                sum(amount) over (partition by account_id, currency order by id) as running
           from ledger_entry) e
        where e.balance_after <> e.running`,
    );
    expect(broken).toEqual([]);
    // Blocked for credit is exactly "a limit and no credit left", whatever moved it.
    const misjudged = await em.execute<{ id: string }[]>(
      `select id from account
        where credit_blocked <> (credit_limit is not null and balance + credit_limit <= 0)`,
    );
    expect(misjudged).toEqual([]);
  });
});

describe('credit control', () => {
  it('blocks an account whose credit is used up, and everything below it, live', async () => {
    const reseller = await admin.post('/resellers', {
      name: 'RB',
      email: 'rb@l.test',
      creditLimit: '10',
    });
    expect(reseller.status).toBe(201);
    expect(reseller.body).toMatchObject({ creditLimit: '10.000000', creditBlock: null });
    const rb = reseller.body.id as string;
    // Prepaid (limit 0) with nothing paid yet: blocked from the start.
    const prepaid = await admin.post('/customers', { name: 'KB', parentId: rb, creditLimit: '0' });
    expect(prepaid.body.creditBlock).toBe('own');
    const kb = prepaid.body.id as string;
    const paid = await admin.post(`/accounts/${kb}/payments`, {
      amount: '5',
      idempotencyKey: 'kb-unblock-1',
    });
    expect(paid.body.balance).toMatchObject({ available: '5.000000', creditBlocked: false });
    expect((await admin.get(`/customers/${kb}`)).body.creditBlock).toBeNull();

    const socket: Socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: admin.cookie },
    });
    const received: TChangeEnvelope[] = [];
    socket.on('change', (envelope: TChangeEnvelope) => received.push(envelope));
    await new Promise((resolve, reject) => {
      socket.once('hello', resolve);
      socket.once('connect_error', reject);
    });
    try {
      // Usage beyond its limit (billing's kind; the service as billing will call it).
      const em = suite.orm.em.fork();
      const user = await em.findOneOrFail(User, { email: ADMIN.email });
      const actor = (await resolveActor(em, {
        userId: user.id,
        sessionVersion: user.sessionVersion,
      })) as TActor;
      await recordMovement(em, actor, rb, { kind: 'usage', amount: '-12.5' });
      await until(
        () => received.some((e) => e.id === rb && e.summary?.refetch?.includes('customers')),
        'the reseller’s block with its cascade',
      );
      expect((await admin.get(`/resellers/${rb}`)).body.creditBlock).toBe('own');
      expect((await admin.get(`/customers/${kb}`)).body.creditBlock).toBe('above');
      const listed = (await admin.get(`/customers?parentId=${rb}`)).body.items;
      expect(listed[0].creditBlock).toBe('above');
      expect((await admin.get(`/accounts/${rb}/balance`)).body).toMatchObject({
        balance: '-12.500000',
        available: '-2.500000',
        creditBlocked: true,
        creditBlock: 'own',
      });
      // The customer's balance, as its own people read it, says its calls stop above it.
      expect((await admin.get(`/accounts/${kb}/balance`)).body).toMatchObject({
        creditBlocked: false,
        creditBlock: 'above',
        warningThreshold: null,
      });
      const kbNow = (await admin.get(`/customers/${kb}`)).body;
      const warned = await admin.patch(`/customers/${kb}`, {
        version: kbNow.version,
        warningThreshold: '2',
      });
      expect(warned.status).toBe(200);
      expect((await admin.get(`/accounts/${kb}/balance`)).body.warningThreshold).toBe('2.000000');

      received.length = 0;
      await admin.post(`/accounts/${rb}/payments`, { amount: '3', idempotencyKey: 'rb-unblock-1' });
      await until(
        () => received.some((e) => e.id === rb && e.summary?.refetch?.includes('customers')),
        'the reseller’s unblock with its cascade',
      );
      expect((await admin.get(`/resellers/${rb}`)).body.creditBlock).toBeNull();
      expect((await admin.get(`/customers/${kb}`)).body.creditBlock).toBeNull();

      // A lower limit blocks it in the same edit.
      const current = (await admin.get(`/resellers/${rb}`)).body;
      const lowered = await admin.patch(`/resellers/${rb}`, {
        version: current.version,
        creditLimit: '9.5',
      });
      expect(lowered.body.creditBlock).toBe('own');
      expect((await admin.get(`/customers/${kb}`)).body.creditBlock).toBe('above');
    } finally {
      socket.disconnect();
    }
  });

  it('tells the people of every account below a reseller blocked for credit, live and in catch-up', async () => {
    // RC over RD over KD: RD's people keep their access while RC is blocked, and see RD
    // and KD as blocked "above".
    const rc = (
      await admin.post('/resellers', { name: 'RC', email: 'rc@l.test', creditLimit: '5' })
    ).body.id as string;
    const rd = (await admin.post('/resellers', { name: 'RD', email: 'rd@l.test', parentId: rc }))
      .body.id as string;
    const kd = (await admin.post('/customers', { name: 'KD', parentId: rd })).body.id as string;
    const group = (await admin.get('/groups')).body.items.find(
      (item: { name: string }) => item.name === 'Default Reseller',
    ).id;
    const made = await admin.post('/users', {
      email: 'ops@rd.l.test',
      password: PASSWORD,
      accountId: rd,
      groupId: group,
    });
    expect(made.status).toBe(201);
    const rdUser = await apiClient(suite.server.url, 'ops@rd.l.test', PASSWORD);

    const socket: Socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: rdUser.cookie },
    });
    const received: TChangeEnvelope[] = [];
    socket.on('change', (envelope: TChangeEnvelope) => received.push(envelope));
    // Where the log stood when it joined (a cursor from before the user existed is
    // resync_required, not a replay).
    const { seq: head } = await new Promise<{ seq: number }>((resolve, reject) => {
      socket.once('hello', resolve);
      socket.once('connect_error', reject);
    });
    try {
      const current = (await admin.get(`/resellers/${rc}`)).body;
      const blocked = await admin.patch(`/resellers/${rc}`, {
        version: current.version,
        creditLimit: '0',
      });
      expect(blocked.body.creditBlock).toBe('own');
      const told = (e: TChangeEnvelope) =>
        e.type === 'resellers.refetch' && e.id === rc && e.summary?.reason === 'above';
      await until(() => received.some(told), 'the cascade from above');
      const signal = received.find(told)!;
      // Bare: the reseller above is named, nothing about it is carried.
      expect(signal.data).toEqual({ id: rc });
      expect(signal.summary?.refetch).toEqual(['resellers', 'customers']);
      // What the refetch reads: RD's customers blocked above.
      const listed = (await rdUser.get('/customers')).body.items;
      expect(listed.find((item: { id: string }) => item.id === kd).creditBlock).toBe('above');
      // A socket that was away hears of it in catch-up.
      const caught = (await rdUser.get(`/events?since=${head}`)).body.items as TChangeEnvelope[];
      expect(caught.filter(told)).toHaveLength(1);
    } finally {
      socket.disconnect();
    }
  });
});
