import { beforeAll, describe, expect, inject, it } from 'vitest';
import fc from 'fast-check';
import type { TActor } from '@/lib/server/authz/actor';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { createCard } from '@/lib/server/services/cards/create-card';
import { updateCard } from '@/lib/server/services/cards/update-card';
import { replaceRates } from '@/lib/server/services/rates/replace-rates';
import { DomainError } from '@/lib/server/errors/domain-error';
import { money } from '@/lib/shared/pricing/money';
import { callPrice } from '@/lib/shared/pricing/billing';
import { actorByEmail } from '../fixtures/cookie-listener';
import { useMigratedDatabase } from '../fixtures/migrated-database';

/**
 * The notice rule against an independent reading of it (README, rate cards): a revision
 * raises a price when, at some moment from its date on, a number's call is priced higher
 * by its set than by the set it follows — each set's longest prefix in force then, some
 * call of it billed higher at the card's precision and rounding, whichever terms moved
 * (a shorter first increment can bill more: 60/60 → 30/60 bills a 31 s call 90 s); a
 * number blocked or unpriced on either side is no raise. Refused (409 `notice_too_short`) when the first
 * such moment comes sooner than the card's notice, naming that moment. The oracle walks
 * numbers, not rows: every prefix of either set, and each followed by a digit.
 */
const RUNS = Number(process.env.NOTICE_RUNS ?? 40);
const NOTICE_HOURS = 48;

const database = useMigratedDatabase();
let actor: TActor;

beforeAll(async () => {
  await createCarrier(database.orm.em.fork(), {
    name: 'Notice carrier',
    adminEmail: 'admin@notice.test',
    adminPassword: 'notice-property-pass',
  });
  actor = await actorByEmail(database.orm.em.fork(), 'admin@notice.test');
});

/** Hours ahead, each far from the notice on either side. */
const DATED_HOURS = [10, 60];
const LIVE_HOURS = [null, 24, 72];
const PREFIXES = ['4', '44', '441', '4412', '33'];

interface TRow {
  prefix: string;
  destination: string;
  rate: string;
  connectionFee: string;
  initialIncrement: number;
  increment: number;
  graceSeconds: number;
  minimumSeconds: number;
  blocked: boolean;
  /** Hours ahead (from `DATED_HOURS`), or undated. */
  dated: number | null;
}

const rowArb = fc.record({
  prefix: fc.constantFrom(...PREFIXES),
  destination: fc.constant('somewhere'),
  rate: fc.integer({ min: 1, max: 6 }).map((n) => (n / 100).toFixed(4)),
  connectionFee: fc.constantFrom('0.0000', '0.0000', '0.0100'),
  // Increments that bill out of order too (30/60, 45/45 against 60/60).
  initialIncrement: fc.constantFrom(1, 1, 60, 30, 45),
  increment: fc.constantFrom(1, 1, 60, 45, 6),
  graceSeconds: fc.constantFrom(0, 0, 5),
  minimumSeconds: fc.constantFrom(0, 0, 30),
  blocked: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
  dated: fc.option(fc.constantFrom(...DATED_HOURS), { freq: 3, nil: null }),
});
/** A set: each prefix once per date. */
const setArb = fc.uniqueArray(rowArb, {
  selector: (row) => `${row.prefix}@${row.dated}`,
  minLength: 1,
  maxLength: 6,
});

const worldArb = fc.record({
  before: setArb,
  after: setArb,
  liveHours: fc.constantFrom(...LIVE_HOURS),
});

const hoursAhead = (start: number, hours: number | null) =>
  hours === null ? -Infinity : start + hours * 3_600_000;

/** The longest row of `rows` a number falls under at `at`: of its prefix, the latest by then. */
function priceAt(rows: TRow[], number: string, at: number, start: number): TRow | undefined {
  return rows
    .filter((row) => number.startsWith(row.prefix) && hoursAhead(start, row.dated) <= at)
    .sort(
      (a, b) =>
        b.prefix.length - a.prefix.length ||
        hoursAhead(start, b.dated) - hoursAhead(start, a.dated),
    )[0];
}

const CARD = { decimals: 4, rounding: 'half_up' } as const;
/**
 * Some call billed higher by \`s\` than by \`o\`: a higher rate bills long calls higher;
 * otherwise every call up to ten minutes is priced (past any row's first increment,
 * grace and minimum, and a common period of its increments, here at most 61 + 180 s).
 */
const LONGEST = 600;
function dearer(s: TRow, o: TRow): boolean {
  if (money(s.rate).gt(money(o.rate))) return true;
  for (let seconds = 1; seconds <= LONGEST; seconds++) {
    if (money(callPrice(s, seconds, CARD)).gt(money(callPrice(o, seconds, CARD)))) return true;
  }
  return false;
}

/** The first moment (ms) the new set prices a number higher, from `liveAt` on; null: never. */
function firstRaise(before: TRow[], after: TRow[], liveAt: number, start: number): number | null {
  const rows = [...before, ...after];
  const numbers = [...new Set(rows.map((row) => row.prefix))].flatMap((p) => [p, `${p}0`]);
  const moments = [
    liveAt,
    ...rows.map((row) => hoursAhead(start, row.dated)).filter((at) => at > liveAt),
  ].sort((a, b) => a - b);
  for (const at of moments) {
    for (const number of numbers) {
      const s = priceAt(after, number, at, start);
      const o = priceAt(before, number, at, start);
      if (s && o && !s.blocked && !o.blocked && dearer(s, o)) return at;
    }
  }
  return null;
}

/**
 * An undated row new or changed (against the undated row of its prefix before) whose
 * prefix has a dated row in force when the revision goes live: a dated row prices over
 * it, so it would never be charged, and the write is refused first (400 naming
 * `effectiveFrom`, rate-sets.ts `UndatedBehindDated`).
 */
function hidesUndated(before: TRow[], after: TRow[], liveAt: number, start: number): boolean {
  const same = (a: TRow, b: TRow) =>
    a.prefix === b.prefix &&
    money(a.rate).eq(money(b.rate)) &&
    money(a.connectionFee).eq(money(b.connectionFee)) &&
    a.destination === b.destination &&
    a.initialIncrement === b.initialIncrement &&
    a.increment === b.increment &&
    a.graceSeconds === b.graceSeconds &&
    a.minimumSeconds === b.minimumSeconds &&
    a.blocked === b.blocked;
  return after.some(
    (row) =>
      row.dated === null &&
      !before.some((old) => old.dated === null && same(old, row)) &&
      after.some(
        (dated) =>
          dated.prefix === row.prefix &&
          dated.dated !== null &&
          hoursAhead(start, dated.dated) <= liveAt,
      ),
  );
}

const toInput = (start: number) => (row: TRow) => {
  const { dated, ...rest } = row;
  return {
    ...rest,
    ...(dated === null ? {} : { effectiveFrom: new Date(hoursAhead(start, dated)).toISOString() }),
  };
};

describe('the notice rule (property)', () => {
  // PGlite runs it too; it is the SQL under test, the same on both.
  if (inject('testDatabase').kind === 'pglite') console.log('notice property on PGlite');

  it(`refuses exactly the revisions that raise a price too soon (${RUNS} runs)`, async () => {
    let refused = 0;
    let accepted = 0;
    let hidden = 0;
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const em = () => database.orm.em.fork();
        // Every date hours from one start, a moment before both writes.
        const start = Date.now();
        const card = await createCard(em(), actor, {
          name: 'Noticed',
          currency: 'EUR',
          kind: 'provider',
          ...CARD,
        });
        await replaceRates(em(), actor, card.id, world.before.map(toInput(start)));
        const [row] = await em()
          .getConnection()
          .execute<{ version: number }[]>('select version from card where id = ?', [card.id]);
        const version = row!.version;
        await updateCard(em(), actor, card.id, { version, minNoticeHours: NOTICE_HOURS });
        const liveAt =
          world.liveHours === null ? null : new Date(hoursAhead(start, world.liveHours));
        const expected = firstRaise(world.before, world.after, liveAt?.getTime() ?? start, start);
        const written = await replaceRates(
          em(),
          actor,
          card.id,
          world.after.map(toInput(start)),
          liveAt,
        ).then(
          () => null,
          (error: unknown) => error,
        );
        if (hidesUndated(world.before, world.after, liveAt?.getTime() ?? start, start)) {
          expect(written).toBeInstanceOf(DomainError);
          expect((written as DomainError).extra).toMatchObject({
            fields: { effectiveFrom: expect.stringMatching(/^has no date, while prefix /) },
          });
          hidden += 1;
          return;
        }
        const tooSoon = expected !== null && expected - start < NOTICE_HOURS * 3_600_000;
        if (!tooSoon) {
          expect(written).toBeNull();
          accepted += 1;
          return;
        }
        refused += 1;
        expect(written).toBeInstanceOf(DomainError);
        const error = written as DomainError;
        expect(error.code).toBe('notice_too_short');
        const first = Date.parse(/the first from (\S+)\.$/.exec(error.message)![1]!);
        // Live now: the write's own moment, a little after the start.
        if (liveAt === null && expected === start) {
          expect(Math.abs(first - start)).toBeLessThan(60_000);
        } else {
          expect(new Date(first).toISOString()).toBe(new Date(expected).toISOString());
        }
      }),
      {
        numRuns: RUNS,
        seed: process.env.NOTICE_SEED ? Number(process.env.NOTICE_SEED) : undefined,
      },
    );
    console.log(
      `notice property: ${RUNS} runs, ${refused} refused, ${accepted} accepted, ${hidden} hiding an undated row`,
    );
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  }, 180_000);
});
