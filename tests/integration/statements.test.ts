import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TActor } from '@/lib/server/authz/actor';
import { directQuery } from '@/lib/server/db/direct-query';
import { Account } from '@/lib/server/entities';
import { recordMovement } from '@/lib/server/services/ledger/record-payment';
import { statementFigures } from '@/lib/server/services/statements/statement-figures';
import { Money } from '@/lib/shared/pricing/money';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import type { TLedgerEntryDto } from '@/lib/shared/schemas/ledger';
import type { TStatementDto } from '@/lib/shared/schemas/statements';
import { addGroup, addUser } from '../fixtures/accounts';
import { apiClient, bearerCall, ok, type TApiClient } from '../fixtures/api-client';
import { until } from '../fixtures/live-client';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { withProcessClockOff } from '../fixtures/process-clock';
import { actorByEmail } from '../fixtures/cookie-listener';

/**
 * Statements (issue 19) over the real API, PostgreSQL and pdftotext: a customer's month
 * with a payment, calls to two destinations, a credit note and an adjustment, issued by
 * its reseller — the figures held to the ledger (opening, each kind's total, closing =
 * the balance), the PDF read back as text with the same figures and the reseller's brand,
 * never the carrier's; final once issued (the database refuses an update); issued again,
 * numbered anew; who may read and issue (a sibling reseller 404, the account itself may
 * read, a customer's own user with `statements:read`); a bad period named.
 *
 * Tree: carrier C (brand "Carrier Brand Co") ─┬─ R1 (brand "Nimbus Voice") ─ K1
 *                                             ├─ R2 ─ K2
 *                                             └─ KD (the carrier's own customer)
 */
const ADMIN = { email: 'admin@statements.test', password: 'statements-admin-pass' };
const PASSWORD = 'statements-user-pass-1';
const CARRIER_NAME = 'Carrier Brand Co';
const RESELLER_BRAND = 'Nimbus Voice';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
let r1Actor: TActor;
let k1User: TApiClient;
const ids = {} as Record<'C' | 'R1' | 'R2' | 'K1' | 'K2' | 'KD' | 'P' | 'S1' | 'S2', string>;
const month = new Date().toISOString().slice(0, 7);
let first: TStatementDto;

const actorOf = (email: string) => actorByEmail(suite.orm.em.fork(), email);

/** The PDF's bytes, fetched as the panel's download link fetches them. */
async function pdfOf(client: TApiClient, id: string): Promise<{ bytes: Buffer; headers: Headers }> {
  const response = await fetch(`${suite.server.url}/api/v1/statements/${id}/pdf`, {
    headers: { cookie: client.cookie },
  });
  expect(response.status).toBe(200);
  return { bytes: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

/** The PDF's text as Debian's poppler-utils reads it (`pdftotext -layout`). */
function pdfText(bytes: Buffer): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'statement-')), 'statement.pdf');
  writeFileSync(file, bytes);
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

/** The amount printed after `label` on its line, as an exact decimal. */
function printed(text: string, label: string): InstanceType<typeof Money> {
  const line = text.split('\n').find((candidate) => candidate.trim().startsWith(label));
  expect(line, `a line starting "${label}" in:\n${text}`).toBeDefined();
  const amount = /(-?\d+\.\d+)(?:\s+EUR)?\s*$/.exec(line!)?.[1];
  expect(amount, line).toBeDefined();
  return new Money(amount!);
}

async function allLedger(accountId: string): Promise<TLedgerEntryDto[]> {
  return (await ok(admin.get(`/accounts/${accountId}/ledger?limit=500`), 200)).items;
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.R1 = (await ok(admin.post('/resellers', { name: 'R1 Telecom', email: 'r1@st.test' }))).id;
  ids.R2 = (await ok(admin.post('/resellers', { name: 'R2 Telecom', email: 'r2@st.test' }))).id;
  for (const [email, accountId] of [
    ['ops@r1.st.test', ids.R1],
    ['ops@r2.st.test', ids.R2],
  ] as const) {
    await ok(admin.post('/users', { email, password: PASSWORD, accountId, groupId: group.id }));
  }
  r1 = await apiClient(suite.server.url, 'ops@r1.st.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@r2.st.test', PASSWORD);
  r1Actor = await actorOf('ops@r1.st.test');
  const brand = (displayName: string) => ({
    displayName,
    primaryColor: '#1d4ed8',
    accentColor: '#0369a1',
    supportEmail: `help@${displayName.toLowerCase().replace(/\W/g, '')}.example`,
    supportUrl: null,
    hostnames: [],
  });
  await ok(admin.put(`/accounts/${ids.C}/brand`, brand(CARRIER_NAME)));
  await ok(r1.put(`/accounts/${ids.R1}/brand`, brand(RESELLER_BRAND)));

  ids.P = (await ok(admin.post('/cards', { name: 'P', currency: 'EUR', kind: 'provider' }))).id;
  await ok(
    admin.put(`/cards/${ids.P}/rates`, {
      rates: [
        { prefix: '44', destination: 'United Kingdom', rate: '0.0100' },
        { prefix: '33', destination: 'France', rate: '0.0200', connectionFee: '0.0100' },
      ],
    }),
    200,
  );
  ids.S1 = (await ok(admin.post(`/cards/${ids.P}/derive`, { name: 'S1', markupPercent: '20' }))).id;
  await ok(admin.post('/assignments', { cardId: ids.S1, accountId: ids.R1 }));
  ids.S2 = (await ok(r1.post(`/cards/${ids.S1}/derive`, { name: 'S2', markupPercent: '50' }))).id;
  ids.K1 = (await ok(r1.post('/customers', { name: 'K1 Hotel', parentId: ids.R1 }))).id;
  ids.K2 = (await ok(r2.post('/customers', { name: 'K2 Hotel', parentId: ids.R2 }))).id;
  ids.KD = (await ok(admin.post('/customers', { name: 'KD Direct' }))).id;
  await ok(r1.post('/assignments', { cardId: ids.S2, accountId: ids.K1 }));
  // The calls start once every card's rates are live.
  const start = Date.now();

  // The month: a payment, calls to two destinations, a credit note and an adjustment.
  await ok(
    r1.post(`/accounts/${ids.K1}/payments`, {
      amount: '100.00',
      reference: 'Wire 2026/12',
      idempotencyKey: 'statement-payment-1',
    }),
  );
  const records = [
    ['k1-1', '447700900001', 65],
    ['k1-2', '447700900002', 30],
    ['k1-3', '33140000001', 125],
    ['k1-4', '33140000002', 7],
  ].map(([id, number, seconds], index) => ({
    id,
    accountId: ids.K1,
    number,
    seconds,
    startedAt: new Date(start + index).toISOString(),
  }));
  const posted = await ok(admin.post('/usage', { records }), 200);
  expect(posted.rated, JSON.stringify(posted)).toBe(4);
  await recordMovement(suite.orm.em.fork(), r1Actor, ids.K1, {
    kind: 'credit_note',
    amount: '5.25',
    reference: 'Outage credit',
  });
  await recordMovement(suite.orm.em.fork(), r1Actor, ids.K1, {
    kind: 'adjustment',
    amount: '-1.125001',
    reference: 'Rounding correction',
  });
});

describe('issuing a statement', () => {
  it('states the ledger: opening, each kind’s total and closing = the balance', async () => {
    first = await ok(r1.post(`/accounts/${ids.K1}/statements`, { period: month }));
    const ledger = await allLedger(ids.K1);
    const sum = (kind: string) =>
      ledger
        .filter((entry) => entry.kind === kind)
        .reduce((total, entry) => total.plus(entry.amount), new Money(0));
    const balance = (await ok(admin.get(`/accounts/${ids.K1}/balance`), 200)).balance;
    expect(first).toMatchObject({
      accountId: ids.K1,
      accountName: 'K1 Hotel',
      number: 1,
      period: month,
      currency: 'EUR',
      issuer: { name: RESELLER_BRAND, supportEmail: 'help@nimbusvoice.example' },
    });
    expect(new Money(first.openingBalance).isZero()).toBe(true);
    expect(new Money(first.paymentsTotal).eq('100')).toBe(true);
    expect(new Money(first.creditNotesTotal).eq('5.25')).toBe(true);
    expect(new Money(first.adjustmentsTotal).eq('-1.125001')).toBe(true);
    expect(new Money(first.usageTotal).eq(sum('usage'))).toBe(true);
    expect(sum('usage').isNegative()).toBe(true);
    expect(new Money(first.paymentsTotal).eq(sum('payment'))).toBe(true);
    expect(new Money(first.closingBalance).eq(balance)).toBe(true);
    // The ledger's own balance after its last movement (newest first).
    expect(new Money(first.closingBalance).eq(ledger[0]!.balanceAfter)).toBe(true);
    // Usage by destination sums to the usage the ledger moved.
    expect(first.usage.map((line) => line.destination)).toEqual(['France', 'United Kingdom']);
    const lines = first.usage.reduce((total, line) => total.plus(line.amount), new Money(0));
    expect(lines.eq(sum('usage').negated())).toBe(true);
    expect(first.usage.map((line) => line.calls)).toEqual([2, 2]);
  });

  it('puts the same figures in the PDF, in the reseller’s brand, never the carrier’s', async () => {
    const { bytes, headers } = await pdfOf(r1, first.id);
    expect(headers.get('content-type')).toBe('application/pdf');
    expect(headers.get('content-disposition')).toBe(
      `attachment; filename="statement-1-${month}.pdf"`,
    );
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(bytes);
    expect(text).toContain(RESELLER_BRAND);
    expect(text).toContain('help@nimbusvoice.example');
    expect(text).toContain('K1 Hotel');
    expect(text).toContain('Statement no. 1');
    // This month is still running: stated to the day it was issued, not to its end.
    const issuedDay = first.issuedAt.slice(0, 10);
    expect(text).toContain(`Period ${month} (${month}-01 to ${issuedDay}, UTC)`);
    expect(text).toContain('Issued before the month ended: the figures are the month so far.');
    expect(text).not.toContain(CARRIER_NAME);
    expect(text).not.toContain('carrierbrandco');
    const ledger = await allLedger(ids.K1);
    const sum = (kind: string) =>
      ledger
        .filter((entry) => entry.kind === kind)
        .reduce((total, entry) => total.plus(entry.amount), new Money(0));
    expect(printed(text, 'Opening balance').isZero()).toBe(true);
    expect(printed(text, 'Usage ').eq(sum('usage'))).toBe(true);
    expect(printed(text, 'Payments ').eq(sum('payment'))).toBe(true);
    expect(printed(text, 'Credit notes').eq(sum('credit_note'))).toBe(true);
    expect(printed(text, 'Adjustments').eq(sum('adjustment'))).toBe(true);
    expect(printed(text, 'Closing balance').eq(ledger[0]!.balanceAfter)).toBe(true);
    // Each destination's line against the charges the calls carried to K1.
    const charged = await directQuery<{ destination: string; amount: string }>(
      suite.orm.em.fork(),
      `select destination, sum(amount)::text as amount from usage_charge
        where payer_id = ? group by destination`,
      [ids.K1],
    );
    expect(charged).toHaveLength(2);
    for (const { destination, amount } of charged) {
      expect(printed(text, destination).eq(amount), destination).toBe(true);
    }
    expect(text).toContain('Outage credit');
    expect(text).toContain('Rounding correction');
  });

  it('is final: the database refuses to change or delete it', async () => {
    const em = suite.orm.em.fork();
    await expect(
      directQuery(em, `update statement set closing_balance = 0 where id = ?`, [first.id]),
    ).rejects.toThrow(/final once issued/);
    await expect(directQuery(em, `delete from statement where id = ?`, [first.id])).rejects.toThrow(
      /final once issued/,
    );
    const again = await ok(r1.get(`/statements/${first.id}`), 200);
    expect(again).toEqual(first);
  });

  it('issued again makes a new numbered statement; a retried key counts once', async () => {
    await recordMovement(suite.orm.em.fork(), r1Actor, ids.K1, {
      kind: 'payment',
      amount: '10',
      reference: 'Top-up',
    });
    const second = await ok(
      r1.post(`/accounts/${ids.K1}/statements`, { period: month, idempotencyKey: 'issue-2-key' }),
    );
    expect(second.number).toBe(2);
    expect(second.id).not.toBe(first.id);
    expect(new Money(second.paymentsTotal).eq('110')).toBe(true);
    expect(new Money(second.closingBalance).minus(first.closingBalance).eq('10')).toBe(true);
    const replay = await ok(
      r1.post(`/accounts/${ids.K1}/statements`, { period: month, idempotencyKey: 'issue-2-key' }),
      200,
    );
    expect(replay).toEqual(second);
    const other = await r1.post(`/accounts/${ids.K1}/statements`, {
      period: '2026-01',
      idempotencyKey: 'issue-2-key',
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    // The same key for another of R1's customers: that request changed (it issued a
    // second statement, final), as a payment's key sent for another account.
    const elsewhere = await ok(r1.post('/customers', { name: 'K1b Hotel', parentId: ids.R1 }));
    const moved = await r1.post(`/accounts/${elsewhere.id}/statements`, {
      period: month,
      idempotencyKey: 'issue-2-key',
    });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe('idempotency_conflict');
    expect((await ok(r1.get(`/accounts/${elsewhere.id}/statements`), 200)).items).toEqual([]);
    const list = await ok(r1.get(`/accounts/${ids.K1}/statements`), 200);
    expect(list.items.map((item: TStatementDto) => item.number)).toEqual([1, 2]);
    // The first is unchanged by the second.
    expect(await ok(r1.get(`/statements/${first.id}`), 200)).toEqual(first);
    // And still true: issued before the month ended, it states the month up to its issue
    // (`periodEnd`), so the payment after it leaves its closing the ledger's balance then.
    const monthEnd = new Date(`${month}-01T00:00:00Z`);
    monthEnd.setUTCMonth(monthEnd.getUTCMonth() + 1);
    expect(Date.parse(first.periodEnd)).toBeLessThan(monthEnd.getTime());
    expect(Date.parse(first.periodEnd)).toBeLessThanOrEqual(Date.parse(second.periodEnd));
    const before = (await allLedger(ids.K1)).find(
      (entry) => Date.parse(entry.createdAt) < Date.parse(first.periodEnd),
    )!;
    expect(new Money(first.closingBalance).eq(before.balanceAfter)).toBe(true);
  });

  it('answers a retried key with this account’s statement, where older writes reused it', async () => {
    // Before keys were the side's whatever the account, one key could issue for two
    // accounts (Migration20261231400000): a retry for each answers its own.
    const b = (await ok(admin.post('/customers', { name: 'KB Direct' }))).id;
    const a = (await ok(admin.post('/customers', { name: 'KA Direct' }))).id;
    const forB = await ok(
      admin.post(`/accounts/${b}/statements`, { period: month, idempotencyKey: 'reused-key-1' }),
    );
    // A's, as the older code issued it: a copy of B's row for A, written after it.
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute(`set local session_replication_role = replica`);
      await tx.execute(
        `insert into statement
         select r.* from statement s, jsonb_populate_record(null::statement, to_jsonb(s)
           || jsonb_build_object('id', gen_random_uuid(), 'account_id', ?::uuid,
                                 'account_name', 'KA Direct')) r
          where s.id = ?::uuid`,
        [a, forB.id],
      );
    });
    const [own] = await suite.orm.em
      .fork()
      .execute<{ id: string }[]>(
        `select id from statement where account_id = ? and idempotency_key = 'reused-key-1'`,
        [a],
      );
    const retry = await admin.post(`/accounts/${a}/statements`, {
      period: month,
      idempotencyKey: 'reused-key-1',
    });
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(own!.id);
  });

  it('opens a period with the ledger’s balance before it', async () => {
    const ledger = (await allLedger(ids.K1)).reverse();
    // A period starting just after the first payment: it opens at that payment's balance.
    const cut = new Date(new Date(ledger[0]!.createdAt).getTime() + 1);
    const end = new Date(Date.now() + 60_000);
    const em = suite.orm.em.fork();
    const figures = await statementFigures(
      em,
      { id: ids.K1, currency: 'EUR' },
      { period: month, start: cut, end },
    );
    const inside = ledger.filter((entry) => new Date(entry.createdAt) >= cut);
    expect(new Money(figures.openingBalance).eq(ledger[0]!.balanceAfter)).toBe(true);
    expect(new Money(figures.openingBalance).isZero()).toBe(false);
    const moved = inside.reduce((total, entry) => total.plus(entry.amount), new Money(0));
    expect(new Money(figures.closingBalance).eq(moved.plus(figures.openingBalance))).toBe(true);
    expect(new Money(figures.closingBalance).eq(inside.at(-1)!.balanceAfter)).toBe(true);
  });

  it('is in the name of the account’s parent: the carrier’s for a reseller and its own customer', async () => {
    const forR1 = await ok(admin.post(`/accounts/${ids.R1}/statements`, { period: month }));
    expect(forR1.issuer.name).toBe(CARRIER_NAME);
    const forKD = await ok(admin.post(`/accounts/${ids.KD}/statements`, { period: month }));
    expect(forKD.issuer.name).toBe(CARRIER_NAME);
    expect(forKD.number).toBe(1);
    expect(pdfText((await pdfOf(admin, forKD.id)).bytes)).toContain(CARRIER_NAME);
    // The carrier issuing for a reseller's customer still issues in the reseller's name.
    // Under the key R1 used for its second: a key is the issuing side's own, so this is
    // the carrier's statement, not R1's handed back as a replay.
    const byCarrier = await ok(
      admin.post(`/accounts/${ids.K1}/statements`, {
        period: month,
        idempotencyKey: 'issue-2-key',
      }),
    );
    expect(byCarrier.issuer.name).toBe(RESELLER_BRAND);
    expect(byCarrier.number).toBe(3);
    const carrierReplay = admin.post(`/accounts/${ids.K1}/statements`, {
      period: month,
      idempotencyKey: 'issue-2-key',
    });
    expect(await ok(carrierReplay, 200)).toEqual(byCarrier);
    const carrierOther = await admin.post(`/accounts/${ids.K1}/statements`, {
      period: '2026-01',
      idempotencyKey: 'issue-2-key',
    });
    expect(carrierOther.body.error.code).toBe('idempotency_conflict');
    // R1's key still answers R1's own.
    const r1Replay = await ok(
      r1.post(`/accounts/${ids.K1}/statements`, { period: month, idempotencyKey: 'issue-2-key' }),
      200,
    );
    expect(r1Replay.number).toBe(2);
    // The account itself reads its own statements.
    const own = await ok(r1.get(`/accounts/${ids.R1}/statements`), 200);
    expect(own.items.map((item: TStatementDto) => item.id)).toEqual([forR1.id]);
    expect((await pdfOf(r1, forR1.id)).bytes.length).toBeGreaterThan(500);
  });
});

describe('an issued statement', () => {
  it('keeps the account’s name as issued, as its PDF does, after a rename', async () => {
    const k = (await ok(r1.post('/customers', { name: 'Old Name Ltd', parentId: ids.R1 }))).id;
    const issued: TStatementDto = await ok(r1.post(`/accounts/${k}/statements`, { period: month }));
    expect(issued.accountName).toBe('Old Name Ltd');
    const current = await ok(r1.get(`/customers/${k}`), 200);
    await ok(r1.patch(`/customers/${k}`, { version: current.version, name: 'New Name Ltd' }), 200);
    expect(await ok(r1.get(`/statements/${issued.id}`), 200)).toEqual(issued);
    expect((await ok(r1.get(`/accounts/${k}/statements`), 200)).items).toEqual([issued]);
    expect(pdfText((await pdfOf(r1, issued.id)).bytes)).toContain('Old Name Ltd');
  });

  it('of a quiet month after a converting transfer is in the account’s new currency', async () => {
    const ru = (
      await ok(admin.post('/resellers', { name: 'RU', email: 'ru@st.test', currency: 'USD' }))
    ).id;
    const ku = (await ok(admin.post('/customers', { name: 'KU', parentId: ru }))).id;
    const card = (
      await ok(admin.post('/cards', { name: 'Retail EUR', currency: 'EUR', kind: 'customer' }))
    ).id;
    await ok(admin.post(`/accounts/${ku}/payments`, { amount: '10', idempotencyKey: 'ku-pay-1' }));
    await ok(
      admin.post(`/accounts/${ku}/adjustments`, {
        kind: 'adjustment',
        amount: '-10',
        reason: 'refund',
        idempotencyKey: 'ku-adj-1',
      }),
    );
    // Those USD movements were in an earlier month (moved there as a data fix would, past
    // the append-only guards); the balance is zero, so the conversion writes nothing.
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute(`set local session_replication_role = replica`);
      await tx.execute(
        `update ledger_entry set created_at = created_at - interval '40 days' where account_id = ?`,
        [ku],
      );
    });
    const moved = await ok(
      admin.post(`/customers/${ku}/transfer`, {
        toParentId: ids.C,
        cardId: card,
        rate: '0.9',
        idempotencyKey: 'ku-move-1',
      }),
      200,
    );
    expect(moved.currency).toBe('EUR');
    const issued: TStatementDto = await ok(
      admin.post(`/accounts/${ku}/statements`, { period: month }),
    );
    expect(issued).toMatchObject({ currency: 'EUR', openingBalance: '0.000000' });
    expect(pdfText((await pdfOf(admin, issued.id)).bytes)).toMatch(/Currency\s+EUR/);
  });
});

describe('a statement of an account named beyond Latin-1', () => {
  it('prints the name as it is, not the standard fonts’ mojibake', async () => {
    const name = 'Телеком Łódź Ωmega';
    const customer = (await ok(admin.post('/customers', { name }))).id as string;
    const issued = await ok(admin.post(`/accounts/${customer}/statements`, { period: month }));
    const text = pdfText((await pdfOf(admin, issued.id)).bytes);
    expect(text).toContain(`Account ${name}`);
    expect(text).toContain('Statement no. 1');
  });
});

describe('a month that moved more than a balance may hold', () => {
  it('is stated: its totals are sums, not balances', async () => {
    // Each movement and the balance stay under the ledger's bound; their month's sums
    // do not, and its statement could never be issued.
    const customer = (await ok(admin.post('/customers', { name: 'Big mover' }))).id as string;
    const pay = (key: string) =>
      ok(
        admin.post(`/accounts/${customer}/payments`, {
          amount: '600000000000',
          idempotencyKey: key,
        }),
      );
    await pay('big-month-1');
    await ok(
      admin.post(`/accounts/${customer}/adjustments`, {
        kind: 'adjustment',
        amount: '-600000000000',
        reason: 'typed twice',
        idempotencyKey: 'big-month-2',
      }),
    );
    await pay('big-month-3');
    const issued = await ok(admin.post(`/accounts/${customer}/statements`, { period: month }));
    expect(new Money(issued.paymentsTotal).eq('1200000000000')).toBe(true);
    expect(new Money(issued.adjustmentsTotal).eq('-600000000000')).toBe(true);
    expect(new Money(issued.closingBalance).eq('600000000000')).toBe(true);
  });
});

describe('an account with statements', () => {
  it('is not deleted: 409 naming them', async () => {
    const refused = await admin.del(`/customers/${ids.KD}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.dependants).toContainEqual({
      resource: 'statements',
      id: expect.any(String),
      name: 'statement 1',
    });
    expect((await admin.get(`/customers/${ids.KD}`)).status).toBe(200);
  });
});

describe('who may', () => {
  it('a sibling reseller gets 404 for every statement path of another’s customer', async () => {
    expect((await r2.get(`/statements/${first.id}`)).status).toBe(404);
    expect((await r2.raw('GET', `/statements/${first.id}/pdf`)).status).toBe(404);
    expect((await r2.get(`/accounts/${ids.K1}/statements`)).status).toBe(404);
    expect((await r2.get(`/statements?accountId=${ids.K1}`)).status).toBe(404);
    const issued = await r2.post(`/accounts/${ids.K1}/statements`, { period: month });
    expect(issued.status).toBe(404);
    const mine = await ok(r2.get('/statements'), 200);
    expect(mine.items).toEqual([]);
    const count = await directQuery<{ n: string }>(
      suite.orm.em.fork(),
      `select count(*)::text as n from statement where account_id = ?`,
      [ids.K1],
    );
    expect(count[0]!.n).toBe('3');
  });

  it('an account does not issue its own, nor its parent’s', async () => {
    expect((await r1.post(`/accounts/${ids.R1}/statements`, { period: month })).status).toBe(404);
    expect((await r1.post(`/accounts/${ids.C}/statements`, { period: month })).status).toBe(404);
  });

  it('a customer’s own user with statements:read reads its own, and nothing else', async () => {
    const em = suite.orm.em.fork();
    const k1 = await em.findOneOrFail(Account, { id: ids.K1 });
    const readers = await addGroup(em, k1, 'Statement readers', ['statements:read']);
    await addUser(em, { account: k1, group: readers, email: 'me@k1.st.test', password: PASSWORD });
    const customer = await apiClient(suite.server.url, 'me@k1.st.test', PASSWORD);
    k1User = customer;
    const own = await ok(customer.get(`/accounts/${ids.K1}/statements`), 200);
    expect(own.items.map((item: TStatementDto) => item.number)).toEqual([1, 2, 3]);
    const text = pdfText((await pdfOf(customer, first.id)).bytes);
    expect(text).toContain(RESELLER_BRAND);
    expect(text).not.toContain(CARRIER_NAME);
    // It may not issue, and nothing of its parent's or a sibling's is there.
    expect((await customer.post(`/accounts/${ids.K1}/statements`, { period: month })).status).toBe(
      403,
    );
    const forR1 = (await ok(admin.get(`/accounts/${ids.R1}/statements`), 200)).items[0];
    expect((await customer.get(`/statements/${forR1.id}`)).status).toBe(404);
  });

  it('without statements:read the list is 403', async () => {
    const em = suite.orm.em.fork();
    const k2 = await em.findOneOrFail(Account, { id: ids.K2 });
    const none = await addGroup(em, k2, 'Ledger only', ['ledger:read']);
    await addUser(em, { account: k2, group: none, email: 'me@k2.st.test', password: PASSWORD });
    const customer = await apiClient(suite.server.url, 'me@k2.st.test', PASSWORD);
    expect((await customer.get(`/accounts/${ids.K2}/statements`)).status).toBe(403);
  });
});

describe('live', () => {
  it('a statement reaches the account’s side and above, never a sibling', async () => {
    const listen = async (client: TApiClient) => {
      const socket: Socket = io(suite.server.url, {
        transports: ['websocket'],
        reconnection: false,
        extraHeaders: { cookie: client.cookie },
      });
      const received: TChangeEnvelope[] = [];
      socket.on('change', (envelope: TChangeEnvelope) => received.push(envelope));
      await new Promise((resolve, reject) => {
        socket.once('hello', resolve);
        socket.once('connect_error', reject);
      });
      return { socket, received };
    };
    const parentSide = await listen(r1);
    const own = await listen(k1User);
    const sibling = await listen(r2);
    try {
      const issued = await ok(admin.post(`/accounts/${ids.K1}/statements`, { period: month }));
      for (const [who, side] of [
        ['R1', parentSide],
        ['K1', own],
      ] as const) {
        await until(
          () => side.received.some((e) => e.type === 'statements.created' && e.id === issued.id),
          `the statement on ${who}’s socket`,
        );
        const event = side.received.find((e) => e.id === issued.id)!;
        expect(event.data).toEqual(issued);
      }
      // K1's people never learn who above issued it: the carrier's admin is not named.
      expect(own.received.find((e) => e.id === issued.id)!.actor).toEqual({
        kind: 'account',
        name: expect.any(String),
      });
      // R2 hears of its own customer's statement, never K1's.
      const k2 = await ok(admin.post(`/accounts/${ids.K2}/statements`, { period: month }));
      await until(() => sibling.received.some((e) => e.id === k2.id), 'K2’s statement on R2');
      expect(sibling.received.some((e) => e.id === issued.id)).toBe(false);
      // The lists read afresh agree with what arrived live.
      const listed = await ok(r1.get(`/statements?accountId=${ids.K1}`), 200);
      expect(listed.items.at(-1)).toEqual(issued);
    } finally {
      parentSide.socket.disconnect();
      own.socket.disconnect();
      sibling.socket.disconnect();
    }
  });
});

describe('bad input', () => {
  it.each([
    [{ period: '2026-13' }, 'period'],
    [{ period: 'December' }, 'period'],
    [{}, 'period'],
    [{ period: '2999-01' }, 'period'],
    [{ period: month, idempotencyKey: 'short' }, 'idempotencyKey'],
    [{ period: month, extra: 1 }, 'extra'],
  ])('%j → 400 naming %s', async (body, field) => {
    const answer = await r1.post(`/accounts/${ids.K1}/statements`, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_input');
    expect(Object.keys(answer.body.error.fields)).toContain(field);
  });

  it('a month not begun by the database’s clock is 400, whatever the process’s clock says', async () => {
    // A panel process whose clock ran ahead across a month's end issued next month's
    // statement, final, opening on a balance still moving. A token: a session cookie's
    // age is read by the process's clock.
    const token = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body
      .token as string;
    const now = Date.now();
    const start = new Date(now);
    const next = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
    const period = new Date(next).toISOString().slice(0, 7);
    const answer = await withProcessClockOff(next - now + 60_000, () =>
      bearerCall(suite.server.url, token, 'POST', `/accounts/${ids.KD}/statements`, { period }),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body.error.fields).toEqual({ period: 'must not be a month that has not begun' });
  });

  it('an unknown id is 404, a malformed cursor 400', async () => {
    expect((await r1.get('/statements/00000000-0000-4000-8000-000000000001')).status).toBe(404);
    expect((await r1.get('/statements/not-an-id/pdf')).status).toBe(404);
    const cursor = await r1.get('/statements?cursor=nope');
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.fields).toHaveProperty('cursor');
  });
});

describe('a customer transferred to another reseller', () => {
  it('leaves its old books behind: the new parent reads neither its old ledger nor statements', async () => {
    await ok(admin.post('/assignments', { cardId: ids.S1, accountId: ids.R2 }));
    const s3 = (await ok(r2.post(`/cards/${ids.S1}/derive`, { name: 'S3', markupPercent: '30' })))
      .id;
    const kt = (await ok(r1.post('/customers', { name: 'KT Movers', parentId: ids.R1 }))).id;
    const paidToR1: { entry: { id: string } } = await ok(
      r1.post(`/accounts/${kt}/payments`, {
        amount: '40.00',
        reference: 'Paid to R1',
        idempotencyKey: 'transfer-payment-r1',
      }),
    );
    const old: TStatementDto = await ok(
      r1.post(`/accounts/${kt}/statements`, { period: month, idempotencyKey: 'kt-statement-1' }),
    );
    await ok(
      admin.post(`/customers/${kt}/transfer`, {
        toParentId: ids.R2,
        cardId: s3,
        idempotencyKey: 'kt-transfer-1',
      }),
      200,
    );
    await ok(
      r2.post(`/accounts/${kt}/payments`, {
        amount: '10.00',
        reference: 'Paid to R2',
        idempotencyKey: 'transfer-payment-r2',
      }),
    );

    // The ledger: R2 reads what moved on its books, and so do the customer's own people
    // (made after the move, so of the new side's making); the carrier reads it all.
    const references = async (client: TApiClient) =>
      ((await ok(client.get(`/accounts/${kt}/ledger`), 200)).items as TLedgerEntryDto[]).map(
        (entry) => entry.reference,
      );
    // The balance kept moved by two adjustments: closed on R1's books, opened on R2's.
    const opened = 'Transfer: balance brought from the previous parent';
    const closed = 'Transfer: balance carried to the new parent';
    expect(await references(r2)).toEqual(['Paid to R2', opened]);
    expect(await references(admin)).toEqual(['Paid to R2', opened, closed, 'Paid to R1']);
    const em = suite.orm.em.fork();
    const account = await em.findOneOrFail(Account, { id: kt });
    const readers = await addGroup(em, account, 'Own books', ['ledger:read', 'statements:read']);
    await addUser(em, { account, group: readers, email: 'me@kt.st.test', password: PASSWORD });
    const own = await apiClient(suite.server.url, 'me@kt.st.test', PASSWORD);
    expect(await references(own)).toEqual(['Paid to R2', opened]);

    // R1's statement: the carrier reads it; R2 and the customer's people find nothing.
    expect((await r2.get(`/statements/${old.id}`)).status).toBe(404);
    expect((await r2.raw('GET', `/statements/${old.id}/pdf`)).status).toBe(404);
    expect((await ok(r2.get(`/statements?accountId=${kt}`), 200)).items).toEqual([]);
    expect((await ok(admin.get(`/statements/${old.id}`), 200)).id).toBe(old.id);
    expect((await ok(own.get(`/accounts/${kt}/statements`), 200)).items).toEqual([]);
    expect((await own.get(`/statements/${old.id}`)).status).toBe(404);
    // R1 keeps reading the statement it issued (its invoice, to collect and to keep), as
    // issued, wherever the customer is now; its account page is no longer R1's to open.
    expect(await ok(r1.get(`/statements/${old.id}`), 200)).toEqual(old);
    expect((await r1.raw('GET', `/statements/${old.id}/pdf`)).status).toBe(200);
    const r1List = (await ok(r1.get('/statements?limit=500'), 200)).items as TStatementDto[];
    expect(r1List.map((statement) => statement.id)).toContain(old.id);
    expect((await r1.get(`/statements?accountId=${kt}`)).status).toBe(404);

    // Nor does a key the old parent used answer its statement or its payment: a key is
    // the issuing or recording side's own, so R2's is a request of its own (and this
    // month's statement is refused below for what it holds).
    const replayed = await r2.post(`/accounts/${kt}/statements`, {
      period: month,
      idempotencyKey: 'kt-statement-1',
    });
    expect(replayed.status).toBe(409);
    expect(replayed.body.error.code).toBe('period_before_transfer');
    expect(JSON.stringify(replayed.body)).not.toContain(old.id);
    const paidAgain = await r2.post(`/accounts/${kt}/payments`, {
      amount: '40.00',
      reference: 'Paid to R2 under R1’s key',
      idempotencyKey: 'transfer-payment-r1',
    });
    expect(paidAgain.status).toBe(201);
    expect(paidAgain.body).toMatchObject({ replayed: false, entry: { counterpartyId: ids.R2 } });
    expect(paidAgain.body.entry.id).not.toBe(paidToR1.entry.id);
    expect(JSON.stringify(paidAgain.body)).not.toContain('Paid to R1');

    // Nor can a statement of the month be made now: it holds R1's movements, and R2 would
    // read it. Nothing is written.
    for (const client of [r2, admin]) {
      const refused = await client.post(`/accounts/${kt}/statements`, { period: month });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'period_before_transfer',
        fields: {
          period:
            'holds movements from before the account came under its parent: issue a later month',
        },
      });
    }
    // Nor a month that ended before the move, with no movement in it: its opening would
    // be the balance the customer had on R1's books, stated in R2's name.
    const now = new Date();
    const before = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    for (const client of [r2, admin]) {
      const refused = await client.post(`/accounts/${kt}/statements`, {
        period: before.toISOString().slice(0, 7),
      });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'period_before_transfer',
        fields: { period: expect.any(String) },
      });
    }
    const count = await directQuery<{ n: string }>(
      em,
      `select count(*)::text as n from statement where account_id = ?`,
      [kt],
    );
    expect(count[0]!.n).toBe('1');
  });

  it('moved up to its parent’s parent, is not stated again for the month of the move', async () => {
    // R1's customer taken back by the carrier: R1's books are the carrier's too (below
    // it), so the month's R1 payment passed as the carrier's, and the carrier invoiced
    // what R1 had (its payment, its calls) a second time.
    const ku = (await ok(r1.post('/customers', { name: 'KU Up', parentId: ids.R1 }))).id;
    await ok(r1.post('/assignments', { cardId: ids.S2, accountId: ku }));
    await ok(
      r1.post(`/accounts/${ku}/payments`, {
        amount: '5.00',
        reference: 'Paid to R1',
        idempotencyKey: 'ku-payment-r1',
      }),
    );
    const byR1: TStatementDto = await ok(r1.post(`/accounts/${ku}/statements`, { period: month }));
    expect(byR1.paymentsTotal).toBe('5.000000');
    await ok(
      admin.post(`/customers/${ku}/transfer`, {
        toParentId: (await admin.get('/me')).body.account.id,
        cardId: ids.S1,
        idempotencyKey: 'ku-transfer-up',
      }),
      200,
    );
    const again = await admin.post(`/accounts/${ku}/statements`, { period: month });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('period_before_transfer');
  });

  it('keeps its old parent from being deleted while a statement names it', async () => {
    const r3 = (await ok(admin.post('/resellers', { name: 'R3 Telecom', email: 'r3@st.test' }))).id;
    const k3 = (await ok(admin.post('/customers', { name: 'K3 Quiet', parentId: r3 }))).id;
    // A month without movements still makes a statement, under R3.
    const issued: TStatementDto = await ok(
      admin.post(`/accounts/${k3}/statements`, { period: month }),
    );
    const s3 = (await ok(r2.get('/cards?limit=100'), 200)).items.find(
      (card: { name: string }) => card.name === 'S3',
    ).id;
    await ok(admin.post(`/customers/${k3}/transfer`, { toParentId: ids.R2, cardId: s3 }), 200);
    // The new parent numbers its own from 1: nothing tells it how many R3 issued.
    const fresh: TStatementDto = await ok(r2.post(`/accounts/${k3}/statements`, { period: month }));
    expect(fresh.number).toBe(1);
    expect((await ok(r2.get(`/accounts/${k3}/statements`), 200)).items).toEqual([fresh]);
    const removed = await admin.del(`/resellers/${r3}`);
    expect(removed.status).toBe(409);
    expect(removed.body.error.dependants).toEqual([
      { resource: 'statements', id: issued.id, name: 'statement 1' },
    ]);
    // So the carrier still reads it.
    expect((await ok(admin.get(`/statements/${issued.id}`), 200)).id).toBe(issued.id);
  });
});

describe('usage lines', () => {
  it('count the calls that cost something, however the calls were batched', async () => {
    // A card with 10 s of grace: a 5 s call is rated and free. Alone in its batch it moves
    // nothing, so no ledger entry carries it; beside a paid call, the batch's entry
    // carries it too. A statement's line must not depend on which.
    const grace = await ok(
      r1.post(`/cards/${ids.S1}/derive`, { name: 'Grace', markupPercent: '50', graceSeconds: 10 }),
    );
    const kg = (await ok(r1.post('/customers', { name: 'KG Grace', parentId: ids.R1 }))).id;
    await ok(r1.post('/assignments', { cardId: grace.id, accountId: kg }));
    // The calls start once the card is live and assigned.
    const start = Date.now();
    const call = (id: string, seconds: number, offset: number) => ({
      id,
      accountId: kg,
      number: '447700900100',
      seconds,
      startedAt: new Date(start + offset).toISOString(),
    });
    const alone = await ok(admin.post('/usage', { records: [call('kg-free-1', 5, 0)] }), 200);
    expect(alone.rated).toBe(1);
    const beside = await ok(
      admin.post('/usage', { records: [call('kg-free-2', 5, 1), call('kg-paid', 65, 2)] }),
      200,
    );
    expect(beside.rated).toBe(2);

    const statement: TStatementDto = await ok(
      r1.post(`/accounts/${kg}/statements`, { period: month }),
    );
    // 65 s billed 60/60 as 120 s at 0.0180 a minute: the one call that cost something.
    expect(statement.usage).toEqual([
      { destination: 'United Kingdom', calls: 1, billedSeconds: 120, amount: '0.036000' },
    ]);
    expect(new Money(statement.usageTotal).eq('-0.036')).toBe(true);
  });
});
