import Decimal from 'decimal.js';

/**
 * Money on the pricing path (DESIGN §1 "Rate cards"): exact decimals from the decimal
 * strings the API carries, never a JavaScript number. One private Decimal constructor
 * with enough significant digits for any card (12 integer digits, 6 decimals) and more.
 */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export type TMoney = InstanceType<typeof Money>;

/** How a card rounds what it shows and bills. */
export const ROUNDING_MODES = ['half_up', 'half_even', 'up', 'down'] as const;
export type TRoundingMode = (typeof ROUNDING_MODES)[number];

const DECIMAL_ROUNDING: Record<TRoundingMode, Decimal.Rounding> = {
  half_up: Decimal.ROUND_HALF_UP,
  half_even: Decimal.ROUND_HALF_EVEN,
  // Away from zero / toward zero: prices are never negative, so "up" bills the customer.
  up: Decimal.ROUND_UP,
  down: Decimal.ROUND_DOWN,
};

/** A card's precision: 4 decimals by default, up to 6. */
export const MIN_DECIMALS = 4;
export const MAX_DECIMALS = 6;

export interface TCardRounding {
  decimals: number;
  rounding: TRoundingMode;
}

export function money(value: string | TMoney): TMoney {
  return value instanceof Money ? value : new Money(value);
}

/** Rounded to the card's precision and mode, as the decimal string the API carries. */
export function atCardPrecision(value: TMoney, card: TCardRounding): string {
  if (!Number.isInteger(card.decimals) || card.decimals < 0 || card.decimals > MAX_DECIMALS) {
    throw new RangeError(`decimals must be 0 to ${MAX_DECIMALS}`);
  }
  return value.toFixed(card.decimals, DECIMAL_ROUNDING[card.rounding]);
}

/**
 * `numerator / count` rounded to the card's precision and mode, exactly: an integer
 * quotient and remainder in units of the card's last decimal (as `callPriceMicro` does),
 * never a division cut short first — a mean of three rows marked up onto the card's grid
 * (0.04 / 3 · 1.5 = 0.02) or onto a half-unit tie rounds as the exact value does. The
 * numerator is exact (sums and products of the API's decimals); prices are never negative.
 */
export function atCardPrecisionOver(numerator: TMoney, count: number, card: TCardRounding): string {
  if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be ≥ 1');
  if (count === 1) return atCardPrecision(numerator, card);
  if (numerator.isNegative()) throw new RangeError('a price is never negative');
  atCardPrecision(numerator, card); // validates the card's precision
  // numerator = n / 10^k exactly; the value in units is n · 10^decimals / (10^k · count).
  const places = numerator.decimalPlaces();
  const n = BigInt(numerator.times(new Money(`1e${places}`)).toFixed(0));
  const num = n * 10n ** BigInt(card.decimals);
  const den = 10n ** BigInt(places) * BigInt(count);
  const q = roundedQuotient(num, den, card.rounding);
  return new Money(q.toString()).dividedBy(new Money(`1e${card.decimals}`)).toFixed(card.decimals);
}

/**
 * `n / d` rounded to an integer by a card's mode, exactly: the integer quotient, bumped by
 * its remainder. For non-negative amounts (prices), as `callPriceMicro` and
 * `atCardPrecisionOver` price them.
 */
export function roundedQuotient(n: bigint, d: bigint, rounding: TRoundingMode): bigint {
  const q = n / d;
  const r = n - q * d;
  if (r === 0n) return q;
  switch (rounding) {
    case 'down':
      return q;
    case 'up':
      return q + 1n;
    case 'half_up':
      return 2n * r >= d ? q + 1n : q;
    case 'half_even':
      return 2n * r > d || (2n * r === d && q % 2n === 1n) ? q + 1n : q;
  }
}
