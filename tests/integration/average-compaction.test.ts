import { beforeAll, describe, expect, it } from 'vitest';
import type { TActor } from '@/lib/server/authz/actor';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { createCard } from '@/lib/server/services/cards/create-card';
import { deriveCard } from '@/lib/server/services/cards/derive-card';
import { replaceRates } from '@/lib/server/services/rates/replace-rates';
import { compact, deriveTerms } from '@/lib/shared/pricing/markup';
import type { TRoundingMode } from '@/lib/shared/pricing/money';
import type { TCardDerive } from '@/lib/shared/schemas/cards';
import { actorByEmail } from '../fixtures/cookie-listener';
import { useMigratedDatabase } from '../fixtures/migrated-database';

/**
 * `average` compaction through the real derive (PostgreSQL): the mean of several parents'
 * rows is never rounded or cut before the markup. A mean that does not terminate (a third)
 * marked up onto the card's grid, or onto a half-unit tie, rounds as the exact value does
 * — PostgreSQL's `avg` divides at about 20 digits, and 0.04/3 · 1.5 cut short is
 * 0.01999…, one unit off rounded down. The TypeScript twin (`compact`, `deriveTerms`)
 * gives the same rows.
 */
const database = useMigratedDatabase();
let actor: TActor;

beforeAll(async () => {
  await createCarrier(database.orm.em.fork(), {
    name: 'Average carrier',
    adminEmail: 'admin@average.test',
    adminPassword: 'average-compaction-pass',
  });
  actor = await actorByEmail(database.orm.em.fork(), 'admin@average.test');
});

const row = (rate: string, connectionFee = '0') => ({
  prefix: '44',
  destination: 'UK',
  rate,
  connectionFee,
  initialIncrement: 60,
  increment: 60,
  graceSeconds: 0,
  blocked: false,
});

/** Provider cards at 4 decimals, one row each on 44, and a card derived from them all. */
async function deriveAverage(
  parents: { rate: string; fee?: string }[],
  markup: Omit<TCardDerive, 'name' | 'moreParents' | 'compaction'>,
): Promise<{ rate: string; connection_fee: string; losing: boolean; losingRates: number }> {
  const ids: string[] = [];
  for (const [index, parent] of parents.entries()) {
    const card = await createCard(database.orm.em.fork(), actor, {
      name: `provider ${ids.length}`,
      currency: 'EUR',
      kind: 'provider',
      decimals: 4,
      rounding: 'half_up',
    });
    await replaceRates(database.orm.em.fork(), actor, card.id, [row(parent.rate, parent.fee)]);
    ids.push(card.id);
    expect(index).toBe(ids.length - 1);
  }
  const derived = await deriveCard(database.orm.em.fork(), actor, ids[0]!, {
    name: 'average',
    ...markup,
    moreParents: ids.slice(1),
    compaction: 'average',
  });
  const rows = await database.orm.em
    .fork()
    .getConnection()
    .execute<{ rate: string; connection_fee: string; losing: boolean }[]>(
      `select rate::text, connection_fee::text, losing from rate where card_id = ?`,
      [derived.id],
    );
  expect(rows).toHaveLength(1);
  return { ...rows[0]!, losingRates: derived.losingRates };
}

/** The TypeScript twin's row for the same parents and markup. */
function twin(
  parents: { rate: string; fee?: string }[],
  markup: { markupPercent?: string; markupFixed?: string; markupFee?: boolean },
  card: { decimals: number; rounding: TRoundingMode },
) {
  const result = compact(
    parents.map((parent, position) => ({
      position,
      blocked: false,
      terms: {
        rate: parent.rate,
        connectionFee: parent.fee ?? '0',
        initialIncrement: 60,
        increment: 60,
        graceSeconds: 0,
      },
    })),
    'average',
  )!;
  return deriveTerms(result.priced.terms, markup, card, undefined, undefined, result.base);
}

const at6 = (value: string) => Number(value).toFixed(6);

describe('average compaction: the exact mean, marked up, then rounded', () => {
  it('lands on the grid: 0.0100 / 0.0100 / 0.0200, +50 %, down → 0.0200, not losing', async () => {
    const parents = [{ rate: '0.0100' }, { rate: '0.0100' }, { rate: '0.0200' }];
    const found = await deriveAverage(parents, {
      markupPercent: '50',
      decimals: 4,
      rounding: 'down',
    });
    // Exactly the dearest parent's 0.0200 on the same structure: no call loses.
    expect(found).toEqual({
      rate: at6('0.0200'),
      connection_fee: at6('0'),
      losing: false,
      losingRates: 0,
    });
    expect(twin(parents, { markupPercent: '50' }, { decimals: 4, rounding: 'down' }).rate).toBe(
      '0.0200',
    );
  });

  it('lands on the grid at +200 %: down → 0.0400', async () => {
    const parents = [{ rate: '0.0100' }, { rate: '0.0100' }, { rate: '0.0200' }];
    const found = await deriveAverage(parents, {
      markupPercent: '200',
      decimals: 4,
      rounding: 'down',
    });
    expect(found.rate).toBe(at6('0.0400'));
    expect(found.losing).toBe(false);
    expect(twin(parents, { markupPercent: '200' }, { decimals: 4, rounding: 'down' }).rate).toBe(
      '0.0400',
    );
  });

  it('a half-unit tie: 0.0100 / 0.0100 / 0.0203, +50 %, half up → 0.0202', async () => {
    const parents = [{ rate: '0.0100' }, { rate: '0.0100' }, { rate: '0.0203' }];
    const found = await deriveAverage(parents, {
      markupPercent: '50',
      decimals: 4,
      rounding: 'half_up',
    });
    // 0.02015 exactly; below the dearest parent's 0.0203, so it loses (and is flagged).
    expect(found).toMatchObject({ rate: at6('0.0202'), losing: true, losingRates: 1 });
    expect(twin(parents, { markupPercent: '50' }, { decimals: 4, rounding: 'half_up' }).rate).toBe(
      '0.0202',
    );
    // Half even keeps the tie at the even 0.0202 too; up goes to 0.0202 as well.
    expect(
      twin(parents, { markupPercent: '50' }, { decimals: 4, rounding: 'half_even' }).rate,
    ).toBe('0.0202');
  });

  it('the connection fee marked up with the rate (`markupFee`): the exact mean too', async () => {
    const parents = [
      { rate: '0.0100', fee: '0.0100' },
      { rate: '0.0100', fee: '0.0100' },
      { rate: '0.0200', fee: '0.0200' },
    ];
    const markup = { markupPercent: '50', markupFee: true };
    const found = await deriveAverage(parents, { ...markup, decimals: 4, rounding: 'down' });
    expect(found).toEqual({
      rate: at6('0.0200'),
      connection_fee: at6('0.0200'),
      losing: false,
      losingRates: 0,
    });
    expect(twin(parents, markup, { decimals: 4, rounding: 'down' })).toMatchObject({
      rate: '0.0200',
      connectionFee: '0.0200',
    });
  });
});
