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
