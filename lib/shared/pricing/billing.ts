import Decimal from 'decimal.js';
import { atCardPrecision, money, roundedQuotient, type TCardRounding, type TMoney } from './money';

/** The billing structure of one rate row (money as decimal strings). */
export interface TRateTerms {
  /** Per minute. */
  rate: string;
  /** Charged once per connected (billed) call. */
  connectionFee: string;
  /** First billed interval, seconds (the 30 of "30/6"). */
  initialIncrement: number;
  /** Every interval after it, seconds (the 6 of "30/6"). */
  increment: number;
  /** Calls this short or shorter are free. */
  graceSeconds: number;
  /**
   * Minimum duration, seconds (absent: none): a billed call shorter than it is billed as
   * if it lasted the minimum, then rounded up to the increments as any call —
   * billed = increments(max(duration, minimum)). Grace is judged on the real duration
   * first: a call within grace stays free whatever the minimum.
   */
  minimumSeconds?: number;
}

/**
 * Billed seconds for a call of `seconds` (DESIGN §1): the initial interval m if the call
 * fits in it, else m plus whole increments i — m + ceil((d − m) / i) · i. With 30/6,
 * 31 s bills 36 s and 37 s bills 42 s. A call of 0 s bills nothing.
 */
export function billedSeconds(
  seconds: number,
  initialIncrement: number,
  increment: number,
): number {
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new RangeError('seconds must be a whole number ≥ 0');
  if (!(initialIncrement >= 1 && increment >= 1)) throw new RangeError('increments must be ≥ 1 s');
  if (seconds === 0) return 0;
  if (seconds <= initialIncrement) return initialIncrement;
  return initialIncrement + Math.ceil((seconds - initialIncrement) / increment) * increment;
}

/**
 * Billed seconds under a row's whole structure: nothing for a call of 0 s or within
 * grace; else the call lengthened to the minimum duration, then billed in increments.
 */
export function billedUnder(terms: TRateTerms, seconds: number): number {
  if (seconds === 0 || seconds <= terms.graceSeconds) return 0;
  return billedSeconds(
    Math.max(seconds, terms.minimumSeconds ?? 0),
    terms.initialIncrement,
    terms.increment,
  );
}

/** The exact price of one call before rounding: fee + rate · billed / 60, or 0 in grace. */
export function exactCallPrice(terms: TRateTerms, seconds: number): TMoney {
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new RangeError('seconds must be a whole number ≥ 0');
  const billed = billedUnder(terms, seconds);
  if (billed === 0) return money('0');
  return money(terms.connectionFee).plus(money(terms.rate).times(billed).dividedBy(60));
}

/** What a call costs as billed: the exact price rounded the card's way. */
export function callPrice(terms: TRateTerms, seconds: number, card: TCardRounding): string {
  return atCardPrecision(exactCallPrice(terms, seconds), card);
}

/**
 * The longest call, in whole seconds up to `cap`, whose billed price (`callPrice`: grace,
 * initial increment, increments, connection fee, the card's rounding) is at most
 * `available` — what one level of a chain can afford (issue 18, `POST /authorize`).
 *
 * Exact and without a search: the price only moves at billed lengths m + j·i, and a
 * rounded price is ≤ A exactly when the unrounded one is at most (or below) a threshold
 * T set by the rounding mode and A's last digit at the card's precision — so the largest
 * billed length fits one integer division, in BigInt at the common scale of T, the fee
 * and the rate. The price never falls as a call grows (rates and fees are ≥ 0), so every
 * shorter call fits too; calls within the grace cost nothing and always fit when
 * `available` ≥ 0. tests/unit/pricing.test.ts holds it to `callPrice` second by second.
 */
export function longestAffordableCall(
  terms: TRateTerms,
  card: TCardRounding,
  available: string | TMoney,
  cap: number,
): number {
  const funds = money(available);
  if (funds.isNegative()) return 0;
  const grace = Math.min(terms.graceSeconds, cap);
  const { at, strict } = priceThreshold(funds, card);
  const rate = money(terms.rate);
  const fee = money(terms.connectionFee);
  const places = Math.max(at.decimalPlaces(), rate.decimalPlaces(), fee.decimalPlaces());
  const scaled = (value: TMoney) => BigInt(value.times(money(`1e${places}`)).toFixed(0));
  // fee + rate · B / 60 ≤ T (or < T)  ⇔  rate · B ≤ 60 · (T − fee) (or <): integers.
  const room = 60n * (scaled(at) - scaled(fee));
  const fits = strict ? room > 0n : room >= 0n;
  if (!fits) return grace;
  const perSecond = scaled(rate);
  if (perSecond === 0n) return cap;
  const longestBilled = strict ? (room - 1n) / perSecond : room / perSecond;
  const first = BigInt(terms.initialIncrement);
  // The shortest charged call is billed at least the minimum duration, in increments.
  const shortest = billedSeconds(
    Math.max(terms.graceSeconds + 1, terms.minimumSeconds ?? 0),
    terms.initialIncrement,
    terms.increment,
  );
  if (longestBilled < BigInt(shortest)) return grace;
  const step = BigInt(terms.increment);
  const billed = first + ((longestBilled - first) / step) * step;
  return billed >= BigInt(cap) ? cap : Math.max(grace, Number(billed));
}

/**
 * The largest unrounded price that rounds to at most `funds` at the card's precision:
 * `at`, and whether the price must stay strictly below it. With F = funds cut to the
 * card's decimals and u one unit there: up rounds anything above F past it (≤ F); down
 * keeps everything below F + u (< F + u); half up rounds F + u/2 up (< F + u/2); half
 * even rounds F + u/2 to F only when F's last digit is even.
 */
function priceThreshold(funds: TMoney, card: TCardRounding): { at: TMoney; strict: boolean } {
  const floor = money(funds.toFixed(card.decimals, Decimal.ROUND_DOWN));
  const unit = money(`1e-${card.decimals}`);
  switch (card.rounding) {
    case 'up':
      return { at: floor, strict: false };
    case 'down':
      return { at: floor.plus(unit), strict: true };
    case 'half_up':
      return { at: floor.plus(unit.dividedBy(2)), strict: true };
    case 'half_even': {
      const even = floor.dividedBy(unit).modulo(2).isZero();
      return { at: floor.plus(unit.dividedBy(2)), strict: !even };
    }
  }
}

/** A rate row's money in millionths (what `numeric(18,6)` holds), for pricing in bulk. */
export interface TRateTermsMicro {
  rate: bigint;
  connectionFee: bigint;
  initialIncrement: number;
  increment: number;
  graceSeconds: number;
  /** A shorter call is billed as if it lasted this long (issue 16); 0 or absent: none. */
  minimumSeconds?: number;
}

/** A decimal string with at most 6 decimals ("0.0123", "12") in millionths, exactly. */
export function toMicro(value: string): bigint {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? value.slice(1) : value).split('.');
  if (fraction.length > 6 || !/^\d*$/.test(whole + fraction)) {
    throw new RangeError(`not a decimal with at most 6 decimals: ${value}`);
  }
  const micro = BigInt(whole || '0') * 1_000_000n + BigInt(fraction.padEnd(6, '0') || '0');
  return negative ? -micro : micro;
}

/** Millionths as the decimal string the API carries at 6 decimals ("0.012300"). */
export function fromMicro(micro: bigint): string {
  const negative = micro < 0n;
  const digits = (negative ? -micro : micro).toString().padStart(7, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

const TEN_POW = [1n, 10n, 100n, 1_000n, 10_000n, 100_000n, 1_000_000n];

/**
 * `callPrice` in integer arithmetic, for rating thousands of calls at once (decimal.js
 * costs microseconds a price): the exact price is (fee·60 + rate·billed) / 60 millionths,
 * a fraction N/D once scaled to the card's precision, rounded the card's way with integer
 * division alone. The same value as `callPrice`, in millionths; a property test holds
 * the two together.
 */
export function callPriceMicro(
  terms: TRateTermsMicro,
  seconds: number,
  card: TCardRounding,
): bigint {
  if (seconds === 0 || seconds <= terms.graceSeconds) return 0n;
  const billed = BigInt(
    billedSeconds(
      Math.max(seconds, terms.minimumSeconds ?? 0),
      terms.initialIncrement,
      terms.increment,
    ),
  );
  const drop = TEN_POW[6 - card.decimals];
  if (drop === undefined || card.decimals < 0) throw new RangeError('decimals must be 0 to 6');
  // The price in units of the card's precision is n / d.
  const n = terms.connectionFee * 60n + terms.rate * billed;
  const d = 60n * drop;
  return roundedQuotient(n, d, card.rounding) * drop;
}
