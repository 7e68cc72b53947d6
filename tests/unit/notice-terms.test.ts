import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canPriceHigher } from '@/lib/server/services/rates/revisions';
import {
  atCardPrecision,
  money,
  ROUNDING_MODES,
  type TCardRounding,
} from '@/lib/shared/pricing/money';

/**
 * The notice rule's reading of a card's precision and rounding edited (`canPriceHigher`):
 * where it says never higher, no amount is priced higher; where it says it can be, some
 * amount is. Amounts at nine decimals, as a call's price before rounding can be.
 */
const TERMS: TCardRounding[] = [4, 5, 6].flatMap((decimals) =>
  ROUNDING_MODES.map((rounding) => ({ decimals, rounding })),
);
const amountArb = fc.integer({ min: 0, max: 10 ** 9 }).map((n) => money((n / 10 ** 9).toFixed(9)));
/** Amounts that land on each kind of place: a tie, just past one, just short of one. */
const SAMPLES = [
  '0.01236',
  '0.0123457',
  '0.01245',
  '0.0123445',
  '0.01234500',
  '0.01234550',
  '0.0123455',
  '0.012345001',
  '0.012344999',
  '0.0100000001',
  '0.012349999',
  '0.0123450001',
].map(money);

describe('a card’s precision or rounding edited', () => {
  it('never prices an amount higher where it says so (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TERMS),
        fc.constantFrom(...TERMS),
        amountArb,
        (was, next, x) => {
          if (canPriceHigher(was, next)) return;
          expect(money(atCardPrecision(x, next)).lte(money(atCardPrecision(x, was)))).toBe(true);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('prices some amount higher wherever it says it can', () => {
    for (const was of TERMS) {
      for (const next of TERMS) {
        if (!canPriceHigher(was, next)) continue;
        const higher = SAMPLES.some((x) =>
          money(atCardPrecision(x, next)).gt(money(atCardPrecision(x, was))),
        );
        expect([was, next, higher]).toEqual([was, next, true]);
      }
    }
  });
});
