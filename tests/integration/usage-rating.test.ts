import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { callPrice, type TRateTerms } from '@/lib/shared/pricing/billing';
import { Money, ROUNDING_MODES, type TRoundingMode } from '@/lib/shared/pricing/money';
import type { TAuthorization } from '@/lib/shared/schemas/authorize';
import type { TUsageRecordDto } from '@/lib/shared/schemas/usage';
import type { TLookup } from '@/lib/shared/schemas/rates';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * Rating against an independent calculation (issue 18 "Proof"): random chains of two
 * and three levels — random rates, connection fees, increments, grace, per-card
 * precision and rounding, markups and billing overrides on the derived cards, a second
 * deck live later and a third scheduled, rows taking effect later inside a deck — and
 * random call records, posted through the API. Every level of every call must be what
 * the product's own price trace (`GET /rates/lookup` with `at` = the call's start and
 * `seconds` = its duration) says for that card; a call whose trace has no price at some
 * level must be unrated for the matching reason. Then: balances equal the sum of their
 * ledger entries and of their charges; concurrent replays of one batch count once.
 */
const ADMIN = { email: 'admin@rating.test', password: 'rating-admin-pass' };
const PASSWORD = 'rating-user-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let reseller: TApiClient;
const ids = {} as Record<'C' | 'R' | 'group', string>;

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.group = group.id;
  ids.R = (await admin.post('/resellers', { name: 'Rating R', email: 'r@rating.test' })).body.id;
  const user = await admin.post('/users', {
    email: 'ops@r.rating.test',
    password: PASSWORD,
    accountId: ids.R,
    groupId: group.id,
  });
  expect(user.status).toBe(201);
  reseller = await apiClient(suite.server.url, 'ops@r.rating.test', PASSWORD);
});

/** Prefixes that nest, so the longest match matters; `9…` numbers have no route. */
const PREFIXES = ['1', '12', '123', '1234', '2', '21', '213', '3', '31', '4', '44', '447'];

const money6 = (max: number) =>
  fc.integer({ min: 0, max }).map((micro) => (micro / 1e6).toFixed(6).replace(/\.?0+$/, '') || '0');

const arbRate = fc.record({
  rate: money6(900_000),
  connectionFee: fc.oneof(fc.constant('0'), money6(50_000)),
  increments: fc.constantFrom([60, 60], [1, 1], [30, 6], [6, 6], [1, 60], [45, 15]),
  graceSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 })),
  blocked: fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, fc.constant(true)),
  /** Taking effect a little later inside its deck (a row the calls after it see). */
  later: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, fc.constant(true)),
});

const arbDeck = fc
  .uniqueArray(fc.constantFrom(...PREFIXES), { minLength: 3, maxLength: 9 })
  .chain((prefixes) =>
    fc.tuple(...prefixes.map((prefix) => arbRate.map((rate) => ({ prefix, ...rate })))),
  );

const arbCard = fc.record({
  decimals: fc.integer({ min: 4, max: 6 }),
  rounding: fc.constantFrom(...ROUNDING_MODES),
});

const arbDerived = fc.record({
  decimals: fc.integer({ min: 4, max: 6 }),
  rounding: fc.constantFrom(...ROUNDING_MODES),
  markupPercent: fc.constantFrom('0', '5', '12.5', '33.333333', '100'),
  markupFixed: fc.constantFrom('0', '0.0001', '0.00333'),
  billing: fc.option(
    fc.record({
      initialIncrement: fc.constantFrom(1, 30, 60),
      increment: fc.constantFrom(1, 6, 60),
      graceSeconds: fc.integer({ min: 0, max: 5 }),
    }),
    { nil: undefined },
  ),
});

const arbCall = fc.record({
  phase: fc.integer({ min: 0, max: 3 }),
  offsetMs: fc.integer({ min: 0, max: 999 }),
  number: fc.oneof(
    fc
      .tuple(fc.constantFrom(...PREFIXES), fc.stringMatching(/^\d{0,8}$/))
      .map(([prefix, tail]) => prefix + tail),
    fc.stringMatching(/^9\d{3,10}$/),
  ),
  seconds: fc.oneof(
    fc.integer({ min: 0, max: 15 }),
    fc.integer({ min: 16, max: 400 }),
    fc.constant(0),
  ),
  direct: fc.boolean(),
});

interface TDeckRow {
  prefix: string;
  rate: string;
  connectionFee: string;
  increments: readonly number[];
  graceSeconds: number;
  blocked: boolean;
  later: boolean;
}

/** The deck as the card takes it: money at the card's precision at most. */
function ratesOf(deck: readonly TDeckRow[], decimals: number, later: string, bump = '0') {
  const at = (value: string) => new Money(value).toDecimalPlaces(decimals).toFixed();
  return deck.map((row) => ({
    prefix: row.prefix,
    destination: `Dest ${row.prefix}`,
    rate: at(new Money(row.rate).plus(bump).toFixed(6)),
    connectionFee: at(row.connectionFee),
    initialIncrement: row.increments[0],
    increment: row.increments[1],
    graceSeconds: row.graceSeconds,
    blocked: row.blocked,
    ...(row.later ? { effectiveFrom: later } : {}),
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let run = 0;
/** What the random calls came to, so the property is seen to cover each outcome. */
const seen = { rated: 0, no_route: 0, blocked_prefix: 0, priced: 0 };

describe('rating against the price trace', () => {
  it('prices every level of random chains and calls as the lookup does, at the call’s time', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbDeck,
        arbCard,
        arbDerived,
        arbDerived,
        fc.array(arbCall, { minLength: 12, maxLength: 24 }),
        async (deck, top, sell, resell, calls) => {
          run++;
          // The chain: P (provider) → S1 (carrier's sell) held by R and by a direct
          // customer KD → S2 (R's sell) held by K.
          const t0 = Date.now();
          const P = (
            await admin.post('/cards', {
              name: `P${run}`,
              currency: 'EUR',
              kind: 'provider',
              ...top,
            })
          ).body.id as string;
          const later1 = new Date(Date.now() + 1500).toISOString();
          const first = await admin.put(`/cards/${P}/rates`, {
            rates: ratesOf(deck, top.decimals, later1),
          });
          expect(first.status, JSON.stringify(first.body)).toBe(200);
          const derive = (client: TApiClient, parent: string, name: string, d: typeof sell) =>
            client.post(`/cards/${parent}/derive`, {
              name,
              decimals: d.decimals,
              rounding: d.rounding,
              markupPercent: d.markupPercent,
              markupFixed: d.markupFixed,
              ...(d.billing ?? {}),
            });
          const S1 = (await derive(admin, P, `S1-${run}`, sell)).body.id as string;
          const KD = (await admin.post('/customers', { name: `KD${run}` })).body.id as string;
          const K = (await admin.post('/customers', { name: `K${run}`, parentId: ids.R })).body
            .id as string;
          expect((await admin.post('/assignments', { cardId: S1, accountId: ids.R })).status).toBe(
            201,
          );
          expect((await admin.post('/assignments', { cardId: S1, accountId: KD })).status).toBe(
            201,
          );
          const S2 = (await derive(reseller, S1, `S2-${run}`, resell)).body.id as string;
          expect((await reseller.post('/assignments', { cardId: S2, accountId: K })).status).toBe(
            201,
          );
          const t1 = Date.now();
          await sleep(1600);
          // A second deck, live now: every level recomputes, a revision each.
          const later2 = new Date(Date.now() + 1500).toISOString();
          expect(
            (
              await admin.put(`/cards/${P}/rates`, {
                rates: ratesOf(deck, top.decimals, later2, '0.0007'),
              })
            ).status,
          ).toBe(200);
          const t2 = Date.now();
          // A third, scheduled a little ahead (calls may be stamped up to minutes ahead).
          const t3 = Date.now() + 20_000;
          expect(
            (
              await admin.put(`/cards/${P}/rates`, {
                rates: ratesOf(deck, top.decimals, new Date(t3 + 500).toISOString(), '0.0123'),
                liveAt: new Date(t3).toISOString(),
              })
            ).status,
          ).toBe(200);
          const phases = [t0 - 5000, t1, t2, t3];
          const records = calls.map((call, index) => ({
            id: `run${run}-call${index}`,
            accountId: call.direct ? KD : K,
            number: call.number,
            startedAt: new Date(phases[call.phase]! + call.offsetMs * 3).toISOString(),
            seconds: call.seconds,
          }));
          // And one call per deck row once the second deck is live at every level (t2 +
          // 2 s: after its later rows, before the third deck), so every run rates, prices
          // and blocks some calls whatever else it drew: the guards below count on them.
          // No prefix continues with 0, so each call matches its own row.
          deck.forEach((row, index) =>
            records.push({
              id: `run${run}-row${index}`,
              accountId: K,
              number: `${row.prefix}0000`,
              startedAt: new Date(t2 + 2_000).toISOString(),
              seconds: 61,
            }),
          );
          const posted = await admin.post('/usage', { records });
          expect(posted.status).toBe(200);
          const stored = new Map<string, TUsageRecordDto>();
          for (const accountId of [K, KD]) {
            const page = await admin.get(`/usage?accountId=${accountId}&limit=500`);
            for (const item of page.body.items as TUsageRecordDto[]) stored.set(item.cdrId, item);
          }
          for (const [index, record] of records.entries()) {
            const got = stored.get(record.id)!;
            const trace = (
              await admin.get(
                `/rates/lookup?accountId=${record.accountId}&number=${record.number}&at=${encodeURIComponent(record.startedAt)}&seconds=${Math.max(1, record.seconds)}`,
              )
            ).body as TLookup;
            const what = `${record.id} ${JSON.stringify(record)} → ${JSON.stringify(got)} trace ${JSON.stringify(trace.levels)}`;
            expect(posted.body.records[index]).toMatchObject({ id: record.id, recordId: got.id });
            const unmatched = trace.levels.some((level) => level.prefix === null);
            const blocked = trace.levels.some((level) => level.blocked);
            if (unmatched || blocked) {
              // POST /authorize's order: a blocked prefix at any level before a missing route.
              const reason = blocked ? 'blocked_prefix' : 'no_route';
              seen[reason]++;
              expect(got.status, what).toBe('unrated');
              expect(got.reason, what).toBe(reason);
              expect(got.levels).toEqual([]);
              continue;
            }
            expect(got.status, what).toBe('rated');
            seen.rated++;
            if (record.seconds > 0 && got.levels.some((level) => level.amount !== '0.000000')) {
              seen.priced++;
            }
            // Top (buy) first in the trace; level 0 (the customer's) first in the record.
            const levels = [...got.levels].reverse();
            expect(
              levels.map((level) => level.cardId),
              what,
            ).toEqual(trace.levels.map((level) => level.cardId));
            for (const [at, level] of levels.entries()) {
              const traced = trace.levels[at]!;
              expect(level.prefix, what).toBe(traced.prefix);
              if (record.seconds === 0) {
                expect([level.amount, level.billedSeconds], what).toEqual(['0.000000', 0]);
              } else {
                expect(new Money(level.amount).eq(traced.amount!), what).toBe(true);
                expect(level.billedSeconds, what).toBe(traced.billedSeconds);
              }
              expect(level.currency).toBe('EUR');
            }
            const payers = got.levels.map((level) => [level.payerId, level.counterpartyId]);
            expect(payers, what).toEqual(
              record.accountId === K
                ? [
                    [K, ids.R],
                    [ids.R, ids.C],
                    [ids.C, null],
                  ]
                : [
                    [KD, ids.C],
                    [ids.C, null],
                  ],
            );
          }
        },
      ),
      { numRuns: Number(process.env.RATING_RUNS ?? 8), endOnFailure: true },
    );
    // Coverage guards: the draws reached each case (three runs read 59–85 rated, 45–70
    // priced, 5–19 blocked with the per-row calls; 15–35, 13–20 and 2–3 without them).
    expect(seen.rated).toBeGreaterThan(20);
    expect(seen.priced).toBeGreaterThan(10);
    expect(seen.no_route).toBeGreaterThan(5);
    expect(seen.blocked_prefix).toBeGreaterThan(0);
  }, 600_000);

  it('keeps every balance equal to the sum of its ledger entries and of its charges', async () => {
    const em = suite.orm.em.fork();
    const rows = await em.execute<
      { id: string; balance: string; entries: string | null; charges: string | null }[]
    >(
      `select a.id, a.balance::text as balance,
              (select sum(amount)::text from ledger_entry e where e.account_id = a.id) as entries,
              (select sum(amount)::text from usage_charge c where c.payer_id = a.id) as charges
         from account a
        where exists (select 1 from usage_charge c where c.payer_id = a.id)`,
    );
    expect(rows.length).toBeGreaterThan(3);
    for (const row of rows) {
      expect(new Money(row.balance).eq(row.entries ?? '0'), row.id).toBe(true);
      expect(new Money(row.balance).eq(new Money(row.charges ?? '0').neg()), row.id).toBe(true);
    }
  });
});

describe('replays', () => {
  it('counts a batch once when the same batch arrives several times at once', async () => {
    const P = (await admin.post('/cards', { name: 'Replay P', currency: 'EUR', kind: 'provider' }))
      .body.id;
    const rates = PREFIXES.map((prefix, index) => ({
      prefix,
      destination: `Dest ${prefix}`,
      rate: `0.0${index + 1}`,
      initialIncrement: 30,
      increment: 6,
    }));
    expect((await admin.put(`/cards/${P}/rates`, { rates })).status).toBe(200);
    const S1 = (await admin.post(`/cards/${P}/derive`, { name: 'Replay S1', markupPercent: '10' }))
      .body.id;
    expect((await admin.post('/assignments', { cardId: S1, accountId: ids.R })).status).toBe(201);
    const S2 = (
      await reseller.post(`/cards/${S1}/derive`, { name: 'Replay S2', markupPercent: '25' })
    ).body.id;
    const K = (await admin.post('/customers', { name: 'Replayed', parentId: ids.R })).body.id;
    expect((await reseller.post('/assignments', { cardId: S2, accountId: K })).status).toBe(201);
    const now = Date.now();
    const records = Array.from({ length: 300 }, (_, index) => ({
      id: `replay-${index}`,
      accountId: K,
      number: `${PREFIXES[index % PREFIXES.length]}555${index}`,
      startedAt: new Date(now + index).toISOString(),
      seconds: 30 + (index % 200),
    }));
    const before = await balances([K, ids.R, ids.C]);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => admin.post('/usage', { records })),
    );
    for (const answer of answers) expect(answer.status).toBe(200);
    const firsts = answers.filter((answer) => answer.body.duplicates === 0);
    expect(firsts).toHaveLength(1);
    const first = firsts[0]!.body;
    expect(first.rated + first.unrated).toBe(records.length);
    for (const answer of answers.filter((a) => a !== firsts[0])) {
      expect(answer.body).toMatchObject({ rated: 0, unrated: 0, duplicates: records.length });
      // Each duplicate names the record the first batch stored, and its outcome then.
      expect(answer.body.records.map((r: { recordId: string }) => r.recordId)).toEqual(
        first.records.map((r: { recordId: string }) => r.recordId),
      );
    }
    const em = suite.orm.em.fork();
    const [stored] = await em.execute<{ records: string; charges: string; entries: string }[]>(
      `select (select count(*) from usage_record where cdr_id like 'replay-%')::text as records,
              (select count(*) from usage_charge c join usage_record r on r.id = c.record_id
                where r.cdr_id like 'replay-%')::text as charges,
              (select count(*) from ledger_entry where reference like ?)::text as entries`,
      [`usage batch ${first.batchId}%`],
    );
    expect(Number(stored!.records)).toBe(records.length);
    expect(Number(stored!.charges)).toBe(first.rated * 3);
    const after = await balances([K, ids.R, ids.C]);
    const charged = await em.execute<{ payer_id: string; total: string }[]>(
      `select c.payer_id, sum(c.amount)::text as total from usage_charge c
         join usage_record r on r.id = c.record_id where r.cdr_id like 'replay-%'
        group by c.payer_id`,
    );
    // One entry per payer (customer, reseller, carrier) for the whole batch.
    expect(Number(stored!.entries)).toBe(
      charged.filter((row) => !new Money(row.total).isZero()).length,
    );
    for (const { payer_id, total } of charged) {
      expect(new Money(before.get(payer_id)!).minus(total).eq(after.get(payer_id)!)).toBe(true);
    }
  });
});

async function balances(accountIds: string[]): Promise<Map<string, string>> {
  const rows = await suite.orm.em
    .fork()
    .execute<{ id: string; balance: string }[]>(
      `select id, balance::text as balance from account where id = any(?::uuid[])`,
      [`{${accountIds.join(',')}}`],
    );
  return new Map(rows.map((row) => [row.id, row.balance]));
}

/** A reseller of its own under the carrier, and a client signed in as its user. */
async function newReseller(name: string): Promise<{ id: string; client: TApiClient }> {
  const made = await admin.post('/resellers', { name, email: `${name}@rating.test` });
  expect(made.status).toBe(201);
  const email = `ops@${name}.rating.test`;
  const user = await admin.post('/users', {
    email,
    password: PASSWORD,
    accountId: made.body.id,
    groupId: ids.group,
  });
  expect(user.status).toBe(201);
  return { id: made.body.id, client: await apiClient(suite.server.url, email, PASSWORD) };
}

async function madeCard(client: TApiClient, body: object, rates?: object[]): Promise<string> {
  const made = await client.post('/cards', { currency: 'EUR', ...body });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  if (rates) expect((await client.put(`/cards/${made.body.id}/rates`, { rates })).status).toBe(200);
  return made.body.id;
}

async function assign(client: TApiClient, cardId: string, accountId: string): Promise<void> {
  const answer = await client.post('/assignments', { cardId, accountId });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

/** The stored records of a customer's calls, by CDR id. */
async function recordsOf(accountId: string): Promise<Map<string, TUsageRecordDto>> {
  const page = await admin.get(`/usage?accountId=${accountId}&limit=500`);
  expect(page.status).toBe(200);
  return new Map((page.body.items as TUsageRecordDto[]).map((item) => [item.cdrId, item]));
}

const CAP = 4 * 60 * 60;

/** The longest call `available` pays for, each billed length priced in turn (`callPrice`). */
function bruteLongest(
  terms: TRateTerms,
  card: { decimals: number; rounding: TRoundingMode },
  available: string,
): number {
  const fits = (seconds: number) => !new Money(callPrice(terms, seconds, card)).gt(available);
  let longest = 0;
  for (let seconds = 0; seconds <= terms.graceSeconds; seconds++)
    if (fits(seconds)) longest = seconds;
  for (let billed = terms.initialIncrement; billed <= CAP; billed += terms.increment) {
    if (billed <= terms.graceSeconds) continue;
    if (!fits(billed)) break;
    longest = billed;
  }
  return longest;
}

describe('a card following several parents', () => {
  it('charges and authorizes each level on the parent that priced the call, as the trace says', async () => {
    // The carrier's providers A and B; S (from A) and T (from B), both held by reseller
    // RP; RP's L from S and T (the lower of the two per prefix), held by customer K.
    const { id: RP, client: rp } = await newReseller('rp');
    const A = await madeCard(admin, { name: 'Two A', kind: 'provider' }, [
      { prefix: '44', destination: 'UK', rate: '0.0120', initialIncrement: 30, increment: 6 },
      { prefix: '441', destination: 'UK geographic', rate: '0.0400' },
      { prefix: '33', destination: 'France', rate: '0.0100', connectionFee: '0.0020' },
    ]);
    const B = await madeCard(admin, { name: 'Two B', kind: 'provider' }, [
      { prefix: '44', destination: 'UK', rate: '0.0150' },
      { prefix: '4420', destination: 'London', rate: '0.0100', initialIncrement: 1, increment: 1 },
      { prefix: '33', destination: 'France', rate: '0.0300' },
      { prefix: '49', destination: 'Germany', rate: '0.0300', connectionFee: '0.0050' },
    ]);
    const derive = async (client: TApiClient, parent: string, body: object) => {
      const made = await client.post(`/cards/${parent}/derive`, body);
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      return made.body.id as string;
    };
    const S = await derive(admin, A, { name: 'Two S', markupPercent: '10' });
    const T = await derive(admin, B, {
      name: 'Two T',
      markupPercent: '20',
      decimals: 5,
      rounding: 'up',
    });
    await assign(admin, S, RP);
    await assign(admin, T, RP);
    const L = await derive(rp, S, {
      name: 'Two L',
      markupPercent: '25',
      moreParents: [T],
      compaction: 'lowest',
    });
    const K = (await admin.post('/customers', { name: 'Two K', parentId: RP })).body.id as string;
    await assign(rp, L, K);
    // RP's credit bounds the calls it pays for: on the card that priced each.
    const current = (await admin.get(`/resellers/${RP}`)).body;
    expect(
      (await admin.patch(`/resellers/${RP}`, { creditLimit: '2', version: current.version }))
        .status,
    ).toBe(200);
    await sleep(5);

    const startedAt = new Date().toISOString();
    const numbers = ['4479123', '4412345', '4420777', '3312345', '4912345', '8812345'];
    const seconds = 95;
    const pricedBy = new Set<string>();
    const traces = new Map<string, TLookup>();
    for (const number of numbers) {
      const trace = (
        await admin.get(
          `/rates/lookup?accountId=${K}&number=${number}&at=${encodeURIComponent(startedAt)}&seconds=${seconds}`,
        )
      ).body as TLookup;
      traces.set(number, trace);
      const asked = await admin.post('/authorize', { accountId: K, number, at: startedAt });
      expect(asked.status).toBe(200);
      const answer = asked.body as TAuthorization;
      const what = `${number}: ${JSON.stringify(answer)} trace ${JSON.stringify(trace.levels)}`;
      if (trace.levels.some((level) => level.prefix === null)) {
        expect(answer, what).toMatchObject({ allowed: false, reason: 'no_route' });
        continue;
      }
      // Top first: the provider, the carrier's card RP pays by, L.
      const [top, middle, own] = trace.levels;
      expect(trace.levels, what).toHaveLength(3);
      expect(own!.cardId).toBe(L);
      expect(
        [
          [A, S],
          [B, T],
        ],
        what,
      ).toContainEqual([top!.cardId, middle!.cardId]);
      pricedBy.add(middle!.cardId);
      expect(answer.allowed, what).toBe(true);
      expect(answer.rate, what).toBe(own!.rate);
      // RP's level: its 2 EUR of credit at the row of the card that priced the call.
      const rows = (await admin.get(`/cards/${middle!.cardId}/rates?prefix=${middle!.prefix}`)).body
        .items as (TRateTerms & { prefix: string })[];
      const row = rows.find((one) => one.prefix === middle!.prefix)!;
      const card = (await admin.get(`/cards/${middle!.cardId}`)).body;
      expect(answer.maxSeconds, what).toBe(bruteLongest(row, card, '2'));
      expect(answer.maxSeconds, what).toBeLessThan(CAP);
    }
    // Each parent priced some of the calls.
    expect([...pricedBy].sort()).toEqual([S, T].sort());

    const records = numbers.map((number, index) => ({
      id: `two-parents-${index}`,
      accountId: K,
      number,
      startedAt,
      seconds,
    }));
    expect((await admin.post('/usage', { records })).status).toBe(200);
    const stored = await recordsOf(K);
    for (const record of records) {
      const got = stored.get(record.id)!;
      const trace = traces.get(record.number)!;
      const what = `${record.number}: ${JSON.stringify(got)} trace ${JSON.stringify(trace.levels)}`;
      if (trace.levels.some((level) => level.prefix === null)) {
        expect([got.status, got.reason], what).toEqual(['unrated', 'no_route']);
        continue;
      }
      expect(got.status, what).toBe('rated');
      const levels = [...got.levels].reverse();
      expect(
        levels.map((level) => [level.cardId, level.prefix]),
        what,
      ).toEqual(trace.levels.map((level) => [level.cardId, level.prefix]));
      for (const [at, level] of levels.entries()) {
        expect(new Money(level.amount).eq(trace.levels[at]!.amount!), what).toBe(true);
      }
      expect(
        got.levels.map((level) => [level.payerId, level.counterpartyId]),
        what,
      ).toEqual([
        [K, RP],
        [RP, ids.C],
        [ids.C, null],
      ]);
    }
  });
});

describe('a level without a card', () => {
  it('is refused by authorize and left unrated by rating, on the same chains', async () => {
    // RQ's customers on cards of RQ's own (its own provider card Q under Y; a hand-built
    // Z): nothing says what RQ pays the carrier. A direct customer on a carrier card
    // derived from no provider card (V): nothing says what the carrier pays upstream.
    const { id: RQ, client: rq } = await newReseller('rq');
    const rates = [{ prefix: '44', destination: 'UK', rate: '0.0200' }];
    const Q = await madeCard(rq, { name: 'RQ upstream', kind: 'provider' }, rates);
    const Y = (await rq.post(`/cards/${Q}/derive`, { name: 'RQ sell', markupPercent: '10' })).body
      .id as string;
    const Z = await madeCard(rq, { name: 'RQ flat', kind: 'customer' }, rates);
    const V = await madeCard(admin, { name: 'Carrier flat', kind: 'customer' }, rates);
    const customer = async (name: string, parentId?: string) =>
      (await admin.post('/customers', { name, ...(parentId ? { parentId } : {}) })).body
        .id as string;
    const KY = await customer('On Y', RQ);
    const KZ = await customer('On Z', RQ);
    const KV = await customer('On V');
    await assign(rq, Y, KY);
    await assign(rq, Z, KZ);
    await assign(admin, V, KV);
    const cases = [
      { accountId: KY, refusedBy: { level: 1, accountId: RQ } },
      { accountId: KZ, refusedBy: { level: 1, accountId: RQ } },
      { accountId: KV, refusedBy: { level: 1, accountId: ids.C } },
    ];
    await sleep(5);
    const startedAt = new Date().toISOString();
    for (const { accountId, refusedBy } of cases) {
      const asked = await admin.post('/authorize', { accountId, number: '4412345', at: startedAt });
      expect(asked.body).toMatchObject({ allowed: false, reason: 'no_card', refusedBy });
    }
    const before = await balances([KY, KZ, KV, RQ, ids.C]);
    const records = cases.map(({ accountId }, index) => ({
      id: `no-card-${index}`,
      accountId,
      number: '4412345',
      startedAt,
      seconds: 60,
    }));
    const posted = await admin.post('/usage', { records });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ rated: 0, unrated: 3, unratedByReason: { no_card: 3 } });
    for (const { accountId } of cases) {
      const got = [...(await recordsOf(accountId)).values()];
      expect(got.map((record) => [record.status, record.reason, record.levels])).toEqual([
        ['unrated', 'no_card', []],
      ]);
    }
    // Nobody paid anything for them.
    expect(await balances([KY, KZ, KV, RQ, ids.C])).toEqual(before);
  });
});
