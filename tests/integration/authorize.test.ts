import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MikroORM } from '@mikro-orm/postgresql';
import { resolveActor, type TActor } from '@/lib/server/authz/actor';
import { Migration20261207200000 } from '@/lib/server/db/migrations/Migration20261207200000';
import { User } from '@/lib/server/entities';
import { recordMovement } from '@/lib/server/services/ledger/record-payment';
import { ALL_GRANTS, DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { callPrice, type TRateTerms } from '@/lib/shared/pricing/billing';
import { money, type TRoundingMode } from '@/lib/shared/pricing/money';
import type { TAuthorization } from '@/lib/shared/schemas/authorize';
import { applyDueRevisions } from '@/lib/server/services/rates/apply-revisions';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { holdRevisionTimers } from '../fixtures/revision-timer';
import { apiClient, bearerCall, type TApiClient } from '../fixtures/api-client';

/**
 * Call authorization for the switch (issue 18) over the real API and PostgreSQL: a
 * carrier → R1 → R2 → customer chain of derived cards, asked by a carrier switch's
 * token and by one R1 holds. Each refusal at each level, what a reseller's token may
 * learn of the levels above it, `maxSeconds` against a brute force over billed lengths
 * with `callPrice` for random billing structures, balances and limits, the revision
 * live at `at`, scope, the grant, bad input, and the migration's grant.
 */
const ADMIN = { email: 'admin@authorize.test', password: 'authorize-admin-pass' };
const PASSWORD = 'authorize-user-pass-1';
const CAP = 4 * 60 * 60;
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
/** The carrier's switch, R1's switch, and an R1 user without the grant. */
const tokens = {} as Record<'carrier' | 'r1' | 'plain', string>;
const ids = {} as Record<
  'K' | 'R1' | 'R2' | 'R3' | 'C2' | 'C3' | 'C5' | 'C6' | 'D' | 'D2' | 'group',
  string
>;
const card = {} as Record<'U' | 'W' | 'X' | 'Y' | 'Z' | 'V', string>;

/** The decision, or (on a 4xx) the error body. */
type TAnswer = TAuthorization & {
  error: { code: string; message: string; fields: Record<string, string> };
};
const authorize = (token: string, body: unknown) =>
  bearerCall<TAnswer>(suite.server.url, token, 'POST', '/authorize', body);

async function tokenOf(email: string): Promise<string> {
  const issued = await requestToken(suite.server.url, email, PASSWORD);
  expect(issued.status).toBe(201);
  return issued.body.token as string;
}

async function patchAccount(kind: 'resellers' | 'customers', id: string, patch: object) {
  const current = (await admin.get(`/${kind}/${id}`)).body;
  const answer = await admin.patch(`/${kind}/${id}`, { ...patch, version: current.version });
  expect(answer.status).toBe(200);
}

/** The rate row a card prices `prefix` with (the owner's view). */
async function rateOf(cardId: string, prefix: string) {
  const rows = (await admin.get(`/cards/${cardId}/rates?prefix=${prefix}&limit=500`)).body.items;
  return rows.find((row: { prefix: string }) => row.prefix === prefix) as TRateTerms & {
    blocked: boolean;
  };
}

async function cardRounding(cardId: string) {
  const body = (await admin.get(`/cards/${cardId}`)).body;
  return { decimals: body.decimals as number, rounding: body.rounding as TRoundingMode };
}

/** Upstream's rates, with its price of 49 (Germany). */
function upstreamRates(germany: string) {
  return [
    { prefix: '49', destination: 'Germany', rate: germany },
    {
      prefix: '4930',
      destination: 'Berlin',
      rate: '0.0200',
      connectionFee: '0.0050',
      initialIncrement: 30,
      increment: 6,
    },
    { prefix: '88', destination: 'Closed', rate: '0.5000', blocked: true },
  ];
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.K = (await admin.get('/me')).body.account.id;
  ids.group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@a.test' })).body.id;
  ids.R2 = (
    await admin.post('/resellers', { name: 'R2', email: 'r2@a.test', parentId: ids.R1 })
  ).body.id;
  ids.R3 = (await admin.post('/resellers', { name: 'R3', email: 'r3@a.test' })).body.id;
  for (const [name, parentId] of [
    ['C2', ids.R2],
    ['C3', ids.R3],
    ['C5', ids.R2],
    ['C6', ids.R2],
    ['D', ids.K],
    ['D2', ids.K],
  ] as const) {
    const made = await admin.post('/customers', { name, parentId });
    expect(made.status).toBe(201);
    ids[name] = made.body.id;
  }
  const user = async (email: string, accountId: string, groupId: string) =>
    expect(
      (await admin.post('/users', { email, password: PASSWORD, accountId, groupId })).status,
    ).toBe(201);
  await user('ops@r1.a.test', ids.R1, ids.group);
  await user('ops@r2.a.test', ids.R2, ids.group);
  // A switch's group holds the one grant; R1's switch group is R1's own, made by the carrier.
  const carrierSwitch = await admin.post('/groups', {
    name: 'Switch',
    grants: ['calls:authorize'],
  });
  expect(carrierSwitch.status).toBe(201);
  const resellerSwitch = await admin.post('/groups', {
    name: 'R1 switch',
    grants: ['calls:authorize'],
    accountId: ids.R1,
  });
  expect(resellerSwitch.status).toBe(201);
  await user('switch@k.a.test', ids.K, carrierSwitch.body.id);
  await user('switch@r1.a.test', ids.R1, resellerSwitch.body.id);
  r1 = await apiClient(suite.server.url, 'ops@r1.a.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@r2.a.test', PASSWORD);
  tokens.carrier = await tokenOf('switch@k.a.test');
  tokens.r1 = await tokenOf('switch@r1.a.test');
  tokens.plain = await tokenOf('ops@r1.a.test');

  // Upstream U (the carrier's cost) → Retail W (to R1 and D) → R1's X (to R2) → R2's Y (to C2).
  card.U = (
    await admin.post('/cards', { name: 'Upstream', currency: 'EUR', kind: 'provider' })
  ).body.id;
  await admin.put(`/cards/${card.U}/rates`, { rates: upstreamRates('0.0100') });
  card.W = (
    await admin.post(`/cards/${card.U}/derive`, { name: 'Retail', markupPercent: '20' })
  ).body.id;
  for (const accountId of [ids.R1, ids.D]) {
    expect((await admin.post('/assignments', { cardId: card.W, accountId })).status).toBe(201);
  }
  card.X = (
    await r1.post(`/cards/${card.W}/derive`, {
      name: 'R1 sell',
      markupPercent: '10',
      decimals: 5,
      rounding: 'up',
    })
  ).body.id;
  expect((await r1.post('/assignments', { cardId: card.X, accountId: ids.R2 })).status).toBe(201);
  card.Y = (
    await r2.post(`/cards/${card.X}/derive`, {
      name: 'R2 sell',
      markupFixed: '0.0010',
      decimals: 6,
      rounding: 'half_even',
    })
  ).body.id;
  expect((await r2.post('/assignments', { cardId: card.Y, accountId: ids.C2 })).status).toBe(201);
  // R2's own card, derived from nothing (C6), and a carrier customer card without an
  // upstream (D2): the chain ends before the levels above them.
  card.Z = (await r2.post('/cards', { name: 'R2 own', currency: 'EUR', kind: 'customer' })).body.id;
  await r2.put(`/cards/${card.Z}/rates`, {
    rates: [{ prefix: '49', destination: 'Germany', rate: '0.0300' }],
  });
  expect((await r2.post('/assignments', { cardId: card.Z, accountId: ids.C6 })).status).toBe(201);
  card.V = (
    await admin.post('/cards', { name: 'Flat', currency: 'EUR', kind: 'customer' })
  ).body.id;
  await admin.put(`/cards/${card.V}/rates`, {
    rates: [{ prefix: '49', destination: 'Germany', rate: '0.0300' }],
  });
  expect((await admin.post('/assignments', { cardId: card.V, accountId: ids.D2 })).status).toBe(
    201,
  );
}, 60_000);

describe('POST /authorize: allowed', () => {
  it('allows a call every level can carry, at the customer’s own rate', async () => {
    const answer = await authorize(tokens.carrier, {
      accountId: ids.C2,
      number: '+49 30 123456',
    });
    expect(answer.status).toBe(200);
    const own = await rateOf(card.Y, '4930');
    expect(answer.body).toEqual({
      allowed: true,
      maxSeconds: CAP,
      rate: money(own.rate).toFixed(6),
      currency: 'EUR',
    });
    // A direct customer of the carrier: its card and the carrier's upstream.
    const direct = await authorize(tokens.carrier, { accountId: ids.D, number: '4912345' });
    expect(direct.body).toMatchObject({ allowed: true, maxSeconds: CAP, rate: '0.0120' });
    // R1's own switch, for a customer below it; the carrier admin holds the grant too.
    expect((await authorize(tokens.r1, { accountId: ids.C2, number: '4912' })).body.allowed).toBe(
      true,
    );
    const adminToken = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body
      .token as string;
    const byToken = await authorize(adminToken, { accountId: ids.C2, number: '4912' });
    expect(byToken.status).toBe(200);
    // A session cookie asks the same question in two round trips, and gets the same answer.
    const byCookie = await admin.post('/authorize', { accountId: ids.C2, number: '4912' });
    expect(byCookie).toEqual(byToken);
    expect((await r1.post('/authorize', { accountId: ids.C2, number: '4912' })).status).toBe(403);
  });
});

describe('POST /authorize: refusals, level by level', () => {
  it('refuses while any level of the chain is suspended, naming the topmost', async () => {
    const refused = async (token: string) =>
      (await authorize(token, { accountId: ids.C2, number: '4930555' })).body;
    for (const [kind, id, level] of [
      ['customers', ids.C2, 0],
      ['resellers', ids.R2, 1],
      ['resellers', ids.R1, 2],
    ] as const) {
      await patchAccount(kind, id, { status: 'suspended' });
      expect(await refused(tokens.carrier)).toEqual({
        allowed: false,
        reason: 'account_suspended',
        refusedBy: { level, accountId: id },
        maxSeconds: 0,
        rate: expect.any(String),
        currency: 'EUR',
      });
      // R1's own switch sees R2 and C2 by name; R1 suspended stops its token at the door.
      if (id === ids.R1) {
        expect((await authorize(tokens.r1, { accountId: ids.C2, number: '49' })).status).toBe(401);
      } else {
        expect((await refused(tokens.r1)).refusedBy).toEqual({ level, accountId: id });
      }
    }
    // R1, R2 and C2 suspended: the reseller above is where it comes from.
    expect((await refused(tokens.carrier)).refusedBy).toEqual({ level: 2, accountId: ids.R1 });
    await patchAccount('resellers', ids.R1, { status: 'active' });
    expect((await refused(tokens.carrier)).refusedBy).toEqual({ level: 1, accountId: ids.R2 });
    await patchAccount('resellers', ids.R2, { status: 'active' });
    await patchAccount('customers', ids.C2, { status: 'active' });
    expect((await refused(tokens.carrier)).allowed).toBe(true);
  });

  it('refuses a level blocked for credit; a payment that unblocks it allows again', async () => {
    const ask = async (token = tokens.carrier) =>
      (await authorize(token, { accountId: ids.C2, number: '4930555' })).body;
    for (const [kind, id, level] of [
      ['customers', ids.C2, 0],
      ['resellers', ids.R2, 1],
      ['resellers', ids.R1, 2],
    ] as const) {
      // Prepaid with nothing paid: blocked.
      await patchAccount(kind, id, { creditLimit: '0' });
      expect(await ask()).toMatchObject({
        allowed: false,
        reason: 'credit_blocked',
        refusedBy: { level, accountId: id },
        maxSeconds: 0,
      });
      // R1's own block is R1's to know (its token still works: credit stops calls, not people).
      expect(await ask(tokens.r1)).toMatchObject({
        reason: 'credit_blocked',
        refusedBy: { level, accountId: id },
      });
      const paid = await admin.post(`/accounts/${id}/payments`, {
        amount: '0.5',
        idempotencyKey: `unblock-${id}`,
      });
      expect(paid.status).toBe(201);
      const after = await ask();
      expect(after.allowed).toBe(true);
      // 0.5 at this level's price of 4930 (fee, 30/6, its card's rounding).
      const levelCard = [card.Y, card.X, card.W][level]!;
      expect(after.maxSeconds).toBe(
        bruteLongest(
          await rateOf(levelCard, '4930'),
          await cardRounding(levelCard),
          (await admin.get(`/accounts/${id}/balance`)).body.available,
        ),
      );
      expect(after.maxSeconds).toBeLessThan(CAP);
      await patchAccount(kind, id, { creditLimit: null });
    }
  });

  it('refuses a level whose credit cannot pay the first billed interval', async () => {
    // 0.0001 of credit, not blocked; but W bills 49 at 0.0120 a minute, 60/60: the first
    // minute alone costs more.
    await patchAccount('customers', ids.D, { creditLimit: '0.0001' });
    expect((await authorize(tokens.carrier, { accountId: ids.D, number: '4912' })).body).toEqual({
      allowed: false,
      reason: 'insufficient_credit',
      refusedBy: { level: 0, accountId: ids.D },
      maxSeconds: 0,
      rate: '0.0120',
      currency: 'EUR',
    });
    await patchAccount('customers', ids.D, { creditLimit: null });
  });

  it('refuses a level without a card, where the chain of cards ends', async () => {
    // No card at all; a card of R2's own (nothing says what R2 pays); a carrier card
    // derived from no provider card (nothing says what the carrier pays).
    for (const [accountId, level, levelId] of [
      [ids.C5, 0, ids.C5],
      [ids.C6, 1, ids.R2],
      [ids.D2, 1, ids.K],
    ] as const) {
      expect((await authorize(tokens.carrier, { accountId, number: '4912' })).body).toMatchObject({
        allowed: false,
        reason: 'no_card',
        refusedBy: { level, accountId: levelId },
        maxSeconds: 0,
      });
    }
    expect((await authorize(tokens.carrier, { accountId: ids.C5, number: '4912' })).body.rate).toBe(
      null,
    );
    // R1's switch: R2's broken chain is below R1, so named.
    expect(
      (await authorize(tokens.r1, { accountId: ids.C6, number: '4912' })).body.refusedBy,
    ).toEqual({ level: 1, accountId: ids.R2 });
  });

  it('refuses a blocked or missing route where it starts; above a reseller it is `no_route`', async () => {
    const blocked = await authorize(tokens.carrier, { accountId: ids.C2, number: '88123' });
    expect(blocked.body).toEqual({
      allowed: false,
      reason: 'blocked_prefix',
      refusedBy: { level: 3, accountId: ids.K },
      maxSeconds: 0,
      rate: null,
      currency: 'EUR',
    });
    const missing = await authorize(tokens.carrier, { accountId: ids.C2, number: '33123' });
    expect(missing.body).toMatchObject({
      reason: 'no_route',
      refusedBy: { level: 3, accountId: ids.K },
    });
    // R1's switch learns that something above it refuses, not what the carrier's card holds.
    for (const number of ['88123', '33123']) {
      expect((await authorize(tokens.r1, { accountId: ids.C2, number })).body).toEqual({
        allowed: false,
        reason: 'no_route',
        refusedBy: 'above',
        maxSeconds: 0,
        rate: null,
        currency: 'EUR',
      });
    }
  });
});

describe('POST /authorize: maxSeconds', () => {
  it('is the tightest level’s longest affordable call, as a brute force over billed lengths finds', async () => {
    const em = suite.orm.em.fork();
    const adminUser = await em.findOneOrFail(User, { email: ADMIN.email });
    const actor = (await resolveActor(em, {
      userId: adminUser.id,
      sessionVersion: adminUser.sessionVersion,
    })) as TActor;
    const levels = [
      { kind: 'customers', id: ids.C2, card: card.Y },
      { kind: 'resellers', id: ids.R2, card: card.X },
      { kind: 'resellers', id: ids.R1, card: card.W },
    ] as const;
    const decimal = (max: number, places: number) =>
      fc
        .integer({ min: 0, max: max * 10 ** places })
        .map((n) => (n / 10 ** places).toFixed(places));
    const structure = fc.record({
      rate: decimal(0.5, 4),
      connectionFee: fc.oneof(fc.constant('0'), decimal(0.05, 4)),
      initialIncrement: fc.constantFrom(1, 6, 30, 60),
      increment: fc.constantFrom(1, 6, 60),
      graceSeconds: fc.constantFrom(0, 0, 3, 10),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        structure,
        // R2's card bills its own structure, or its parent's.
        fc.option(
          fc.record({
            initialIncrement: fc.constantFrom(1, 30, 60),
            increment: fc.constantFrom(1, 6, 60),
            graceSeconds: fc.constantFrom(0, 5),
          }),
        ),
        fc.array(
          fc.record({
            limit: fc.option(fc.oneof(decimal(2, 2), decimal(40, 4)), { nil: null }),
            move: fc.oneof(
              fc.constant(null),
              decimal(3, 4),
              decimal(3, 4).map((v) => `-${v}`),
            ),
          }),
          { minLength: 3, maxLength: 3 },
        ),
        async (upstream, ownBilling, credit) => {
          run++;
          const put = await admin.put(`/cards/${card.U}/rates`, {
            rates: [
              { prefix: '49', destination: 'Germany', rate: '0.0100' },
              { prefix: '4930', destination: 'Berlin', ...upstream },
              { prefix: '88', destination: 'Closed', rate: '0.5000', blocked: true },
            ],
          });
          expect(put.status).toBe(200);
          const y = (await r2.get(`/cards/${card.Y}`)).body;
          const billing = ownBilling ?? {
            initialIncrement: null,
            increment: null,
            graceSeconds: null,
          };
          expect(
            (await r2.patch(`/cards/${card.Y}`, { version: y.version, ...billing })).status,
          ).toBe(200);
          for (const [index, level] of levels.entries()) {
            const { limit, move } = credit[index]!;
            if (move && /[1-9]/.test(move)) {
              await recordMovement(em.fork(), actor, level.id, {
                kind: 'adjustment',
                amount: move,
                reference: `case ${run}`,
              });
            }
            await patchAccount(level.kind, level.id, { creditLimit: limit });
          }

          const answer = (await authorize(tokens.carrier, { accountId: ids.C2, number: '493012' }))
            .body;

          // Independently: each level's row, rounding and available credit through the API.
          const seen = await Promise.all(
            levels.map(async (level) => ({
              ...level,
              terms: await rateOf(level.card, '4930'),
              rounding: await cardRounding(level.card),
              balance: (await admin.get(`/accounts/${level.id}/balance`)).body,
            })),
          );
          // The topmost blocked level refuses (the effective block comes from above).
          const blocked = seen.findLastIndex((level) => level.balance.creditBlocked);
          if (blocked >= 0) {
            expect(answer).toMatchObject({
              allowed: false,
              reason: 'credit_blocked',
              refusedBy: { level: blocked, accountId: levels[blocked]!.id },
            });
            return;
          }
          const longest = Math.min(
            CAP,
            ...seen
              .filter((level) => level.balance.creditLimit !== null)
              .map((level) => bruteLongest(level.terms, level.rounding, level.balance.available)),
          );
          expect(answer.maxSeconds).toBe(longest);
          expect(answer.allowed).toBe(longest > 0);
          if (longest === 0) expect(answer.reason).toBe('insufficient_credit');
          else expect(answer.rate).toBe(money(seen[0]!.terms.rate).toFixed(6));
        },
      ),
      { numRuns: 25 },
    );
    for (const level of levels) await patchAccount(level.kind, level.id, { creditLimit: null });
  }, 120_000);

  it('is bounded only by levels in the caller’s scope: no credit or price above it leaks', async () => {
    // R2's own switch asks for C2. R1 is above it: how long R1's credit lasts on R1's buy
    // card (W) would tell R2 the ratio of W's prices, and R1's spend over time. The
    // carrier's switch, with every level in scope, keeps the exact bound.
    const group = await admin.post('/groups', {
      name: 'R2 switch',
      grants: ['calls:authorize'],
      accountId: ids.R2,
    });
    expect(
      (
        await admin.post('/users', {
          email: 'switch@r2.a.test',
          password: PASSWORD,
          accountId: ids.R2,
          groupId: group.body.id,
        })
      ).status,
    ).toBe(201);
    const r2Switch = await tokenOf('switch@r2.a.test');
    const ask = async (token: string, number: string) =>
      (await authorize(token, { accountId: ids.C2, number })).body;

    // The upstream's own prices again (the property above leaves random ones), and R1's
    // balance brought to nothing (earlier tests paid it), so its limit is its credit.
    expect(
      (await admin.put(`/cards/${card.U}/rates`, { rates: upstreamRates('0.0100') })).status,
    ).toBe(200);
    const { balance } = (await admin.get(`/accounts/${ids.R1}/balance`)).body;
    if (!money(balance).isZero()) {
      const evened = await admin.post(`/accounts/${ids.R1}/adjustments`, {
        kind: 'adjustment',
        amount: money(balance).negated().toFixed(),
        currency: 'EUR',
        reason: 'authorize scope test',
        idempotencyKey: 'scope-even-r1',
      });
      expect(evened.status).toBe(201);
    }
    const seen = new Set<number>();
    for (const limit of ['0.10', '0.20']) {
      await patchAccount('resellers', ids.R1, { creditLimit: limit });
      for (const number of ['4930555', '4912']) {
        const carrier = await ask(tokens.carrier, number);
        expect(carrier.allowed, JSON.stringify(carrier)).toBe(true);
        expect(carrier.maxSeconds).toBeLessThan(CAP);
        seen.add(carrier.maxSeconds);
        // R1's own switch has R1 in scope: its bound is R1's too.
        expect((await ask(tokens.r1, number)).maxSeconds).toBe(carrier.maxSeconds);
        expect(await ask(r2Switch, number)).toEqual({ ...carrier, maxSeconds: CAP });
      }
    }
    // The carrier's answers moved with R1's limit and W's prices; R2's never did.
    expect(seen.size).toBe(4);
    // R1 unable to pay even the first billed interval (0.0001 of credit: not blocked): R2
    // learns that something above it refuses, as for a credit block there, and nothing
    // more.
    await patchAccount('resellers', ids.R1, { creditLimit: '0.0001' });
    expect((await ask(tokens.carrier, '4912')).refusedBy).toEqual({ level: 2, accountId: ids.R1 });
    expect(await ask(r2Switch, '4912')).toEqual({
      allowed: false,
      reason: 'insufficient_credit',
      refusedBy: 'above',
      maxSeconds: 0,
      rate: (await ask(tokens.carrier, '4912')).rate,
      currency: 'EUR',
    });
    expect((await ask(tokens.r1, '4912')).refusedBy).toEqual({ level: 2, accountId: ids.R1 });
    // With grace on R1's buy card, R1 still pays for nothing past it: the carrier's switch
    // may let a call run its free seconds; R2's is refused as before, told nothing more.
    const w = (await admin.get(`/cards/${card.W}`)).body;
    expect(
      (await admin.patch(`/cards/${card.W}`, { version: w.version, graceSeconds: 10 })).status,
    ).toBe(200);
    expect(await ask(tokens.carrier, '4912')).toMatchObject({ allowed: true, maxSeconds: 10 });
    expect(await ask(r2Switch, '4912')).toMatchObject({
      allowed: false,
      reason: 'insufficient_credit',
      refusedBy: 'above',
      maxSeconds: 0,
    });
    const graced = (await admin.get(`/cards/${card.W}`)).body;
    expect(
      (await admin.patch(`/cards/${card.W}`, { version: graced.version, graceSeconds: null }))
        .status,
    ).toBe(200);
    await patchAccount('resellers', ids.R1, { creditLimit: null });
  });
});

/**
 * The longest call that fits `available`, found by pricing each billed length with
 * `callPrice` in turn: every length within the grace, then m, m + i, m + 2i, … (the
 * longest call billed as each), up to the cap; the last one that fits.
 */
function bruteLongest(
  terms: TRateTerms,
  card: { decimals: number; rounding: TRoundingMode },
  available: string,
): number {
  if (money(available).isNegative()) return 0;
  const fits = (seconds: number) => !money(callPrice(terms, seconds, card)).gt(available);
  let longest = 0;
  for (let seconds = 0; seconds <= Math.min(terms.graceSeconds, CAP); seconds++) {
    if (fits(seconds)) longest = seconds;
  }
  for (let billed = terms.initialIncrement; ; billed += terms.increment) {
    const seconds = Math.min(billed, CAP);
    if (seconds <= terms.graceSeconds) continue;
    if (!fits(seconds)) break;
    longest = seconds;
    if (seconds === CAP) break;
  }
  return longest;
}

describe('POST /authorize: scope, grant, input', () => {
  it('answers 404 for a customer outside the caller’s scope, as everywhere', async () => {
    for (const accountId of [ids.C3, ids.D, '00000000-0000-4000-8000-000000000000']) {
      const answer = await authorize(tokens.r1, { accountId, number: '4912' });
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ error: { code: 'not_found', message: 'No such account.' } });
    }
    expect((await authorize(tokens.carrier, { accountId: ids.C3, number: '4912' })).status).toBe(
      200,
    );
  });

  it('answers 403 to a token without the grant, and no reseller can hand the grant on', async () => {
    const answer = await authorize(tokens.plain, { accountId: ids.C2, number: '4912' });
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toContain('calls:authorize');
    // The Default Reseller holds no calls:authorize, so may not put it in a group.
    const escalating = await r1.post('/groups', { name: 'Sneaky', grants: ['calls:authorize'] });
    expect(escalating.status).toBe(403);
  });

  it('lets no statement through for a credential the door refuses', async () => {
    // The decision rides in the token check's round trip; a revoked token still gets 401.
    const token = await tokenOf('switch@k.a.test');
    expect((await authorize(token, { accountId: ids.C2, number: '4912' })).status).toBe(200);
    const mine = await bearerCall(suite.server.url, token, 'GET', '/tokens');
    const newest = [...mine.body.items].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    expect(
      (await bearerCall(suite.server.url, token, 'DELETE', `/tokens/${newest.id}`)).status,
    ).toBe(204);
    const revoked = await authorize(token, { accountId: ids.C2, number: '4912' });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toEqual({
      error: { code: 'unauthenticated', message: 'Sign in, or send a valid bearer token.' },
    });
    // A refused credential is 401 before bad input is 400, as on every route.
    expect((await authorize(token, { accountId: 'x' })).status).toBe(401);
    expect(
      (await authorize('rpt_' + 'x'.repeat(43), { accountId: ids.C2, number: '1' })).status,
    ).toBe(401);
    // Also when the input would only fail in the database (a year it refuses): the
    // statement never rides, and the unknown token is what is answered.
    const unknown = 'rpt_' + 'y'.repeat(43);
    const ancient = '0000-06-01T00:00:00Z';
    expect(
      (await authorize(unknown, { accountId: ids.C2, number: '4912', at: ancient })).status,
    ).toBe(401);
    const trace = await bearerCall(
      suite.server.url,
      unknown,
      'GET',
      `/rates/lookup?accountId=${ids.C2}&number=4912&at=${ancient}`,
    );
    expect(trace.status).toBe(401);
  });

  it('answers 400 naming the field', async () => {
    const bad = async (body: unknown) => {
      const answer = await authorize(tokens.carrier, body);
      expect(answer.status).toBe(400);
      return Object.keys(answer.body.error.fields);
    };
    expect(await bad({ number: '4912' })).toEqual(['accountId']);
    expect(await bad({ accountId: 'x', number: '4912' })).toEqual(['accountId']);
    expect(await bad({ accountId: ids.C2, number: '49ab' })).toEqual(['number']);
    expect(await bad({ accountId: ids.C2, number: '4912', at: 'tomorrow' })).toEqual(['at']);
    // Years PostgreSQL refuses: no year 0, none past 9999 once the offset is applied.
    for (const at of ['0000-06-01T00:00:00Z', '9999-12-31T23:59:00-01:00']) {
      expect(await bad({ accountId: ids.C2, number: '4912', at }), at).toEqual(['at']);
      const trace = await admin.get(
        `/rates/lookup?accountId=${ids.C2}&number=4912&at=${encodeURIComponent(at)}`,
      );
      expect(trace.status, at).toBe(400);
      expect(trace.body.error.fields, at).toEqual({ at: 'must be between 1970 and 9999' });
    }
    expect(await bad({ accountId: ids.C2, number: '4912', seconds: 60 })).toEqual(['seconds']);
    // A reseller is in scope but places no calls.
    expect(await bad({ accountId: ids.R2, number: '4912' })).toEqual(['accountId']);
    const notJson = await fetch(`${suite.server.url}/api/v1/authorize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.carrier}`, 'content-type': 'application/json' },
      body: '{"accountId":',
    });
    expect(notJson.status).toBe(400);
  });
});

describe('POST /authorize while a revision due now is not applied yet', () => {
  it('sizes maxSeconds on the price rating charges from the revision’s date', async () => {
    await patchAccount('customers', ids.D, { creditLimit: '1.2' });
    expect(money((await admin.get(`/accounts/${ids.D}/balance`)).body.available).eq('1.2')).toBe(
      true,
    );
    const ask = (at?: string) =>
      authorize(tokens.carrier, { accountId: ids.D, number: '4912345', ...(at ? { at } : {}) });
    // D's card (Retail, 20% over Upstream) bills 49 at 0.0120 a minute, 60/60: 100 minutes.
    expect((await ask()).body).toEqual({
      allowed: true,
      maxSeconds: 6_000,
      rate: '0.0120',
      currency: 'EUR',
    });
    const liveAt = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await admin.put(`/cards/${card.U}/rates`, {
      liveAt,
      rates: upstreamRates('0.0200'),
    });
    expect(scheduled.body.revision.state).toBe('scheduled');
    const release = await holdRevisionTimers();
    try {
      // Its date comes (moved behind the trigger's back), Retail's with it; the timer has
      // not copied them into the live set yet.
      await suite.orm.em.fork().transactional(async (tx) => {
        await tx.execute(`set local session_replication_role = replica`);
        await tx.execute(
          `update rate_revision set live_at = now() - interval '1 minute'
            where live_at = ? and applied_at is null`,
          [liveAt],
        );
      });
      // Rating charges 0.0240 a minute from its date: 1.2 pays 50 minutes, not 100.
      const due = await ask();
      expect(due.body).toEqual({
        allowed: true,
        maxSeconds: 3_000,
        rate: '0.0240',
        currency: 'EUR',
      });
      expect((await ask(new Date().toISOString())).body).toEqual(due.body);
      // A session cookie's two round trips, and the price trace, read the same.
      const byCookie = await admin.post('/authorize', { accountId: ids.D, number: '4912345' });
      expect(byCookie.body).toEqual(due.body);
      const trace = await admin.get(`/rates/lookup?accountId=${ids.D}&number=4912345`);
      expect(trace.body.levels.map((level: { rate: string }) => level.rate)).toEqual([
        '0.0200',
        '0.0240',
      ]);
      // Applied, the live set answers the same.
      expect(await applyDueRevisions(suite.orm.em.fork())).toBeGreaterThan(0);
      expect((await ask()).body).toEqual(due.body);
    } finally {
      // As it was, for the tests after this one.
      await applyDueRevisions(suite.orm.em.fork());
      release();
      await admin.put(`/cards/${card.U}/rates`, { rates: upstreamRates('0.0100') });
      await patchAccount('customers', ids.D, { creditLimit: null });
    }
    expect((await ask()).body).toMatchObject({ maxSeconds: CAP, rate: '0.0120' });
  });
});

describe('POST /authorize at an instant', () => {
  it('prices with the revisions live at `at`, at every level', async () => {
    const liveAt = new Date(Date.now() + 86_400_000).toISOString();
    const now = await authorize(tokens.carrier, { accountId: ids.C2, number: '4930123' });
    const scheduled = await admin.put(`/cards/${card.U}/rates`, {
      liveAt,
      rates: [
        { prefix: '49', destination: 'Germany', rate: '0.0100' },
        { prefix: '4930', destination: 'Berlin', rate: '0.0400' },
        { prefix: '88', destination: 'Open again', rate: '0.5000' },
      ],
    });
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.revision.state).toBe('scheduled');
    const later = new Date(Date.parse(liveAt) + 1_000).toISOString();
    const then = await authorize(tokens.carrier, {
      accountId: ids.C2,
      number: '4930123',
      at: later,
    });
    // The price trace reads the same revisions at every level.
    const trace = await admin.get(`/rates/lookup?accountId=${ids.C2}&number=4930123&at=${later}`);
    const traced = trace.body.levels.at(-1);
    expect(traced.cardId).toBe(card.Y);
    expect(then.body).toMatchObject({ allowed: true, rate: traced.rate });
    expect(then.body.rate).not.toBe(now.body.rate);
    // Now is still now; a prefix blocked today is open then.
    expect(
      (await authorize(tokens.carrier, { accountId: ids.C2, number: '4930123' })).body,
    ).toEqual(now.body);
    expect(
      (await authorize(tokens.carrier, { accountId: ids.C2, number: '88', at: later })).body
        .allowed,
    ).toBe(true);
    expect((await authorize(tokens.carrier, { accountId: ids.C2, number: '88' })).body.reason).toBe(
      'blocked_prefix',
    );
  });
});

describe('Migration20261207200000', () => {
  it('gives calls:authorize to groups holding the whole previous catalog, and to nobody else', async () => {
    const previous = ALL_GRANTS.filter((grant) => grant !== 'calls:authorize');
    const whole = await admin.post('/groups', { name: 'Old admins', grants: previous });
    const partial = await admin.post('/groups', {
      name: 'Most',
      grants: previous.filter((grant) => grant !== 'audit:delete'),
    });
    expect([whole.status, partial.status]).toEqual([201, 201]);
    await runMigrationUp(suite.orm);
    const grantsOf = async (id: string) => (await admin.get(`/groups/${id}`)).body.grants;
    expect(await grantsOf(whole.body.id)).toContain('calls:authorize');
    expect(await grantsOf(partial.body.id)).not.toContain('calls:authorize');
    expect([...(await grantsOf(ids.group))].sort()).toEqual([...DEFAULT_RESELLER_GRANTS].sort());
  });
});

async function runMigrationUp(orm: MikroORM) {
  const migration = new Migration20261207200000(
    orm.em.getDriver() as unknown as ConstructorParameters<typeof Migration20261207200000>[0],
    orm.config,
  );
  await migration.up();
  const em = orm.em.fork();
  await em.transactional(async (tx) => {
    for (const query of migration.getQueries()) await tx.execute(query as string);
  });
}
