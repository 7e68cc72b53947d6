import { atCardPrecision, money, type TCardRounding, type TMoney } from './money';

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

/** The exact price of one call before rounding: fee + rate · billed / 60, or 0 in grace. */
export function exactCallPrice(terms: TRateTerms, seconds: number): TMoney {
  if (seconds === 0 || seconds <= terms.graceSeconds) return money('0');
  const billed = billedSeconds(seconds, terms.initialIncrement, terms.increment);
  return money(terms.connectionFee).plus(money(terms.rate).times(billed).dividedBy(60));
}

/** What a call costs as billed: the exact price rounded the card's way. */
export function callPrice(terms: TRateTerms, seconds: number, card: TCardRounding): string {
  return atCardPrecision(exactCallPrice(terms, seconds), card);
}

/** A rate row's money in millionths (what `numeric(18,6)` holds), for pricing in bulk. */
export interface TRateTermsMicro {
  rate: bigint;
  connectionFee: bigint;
  initialIncrement: number;
  increment: number;
  graceSeconds: number;
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
  const billed = BigInt(billedSeconds(seconds, terms.initialIncrement, terms.increment));
  const drop = TEN_POW[6 - card.decimals];
  if (drop === undefined || card.decimals < 0) throw new RangeError('decimals must be 0 to 6');
  // The price in units of the card's precision is n / d.
  const n = terms.connectionFee * 60n + terms.rate * billed;
  const d = 60n * drop;
  let q = n / d;
  const r = n - q * d;
  if (r !== 0n) {
    switch (card.rounding) {
      case 'down':
        break;
      case 'up':
        q += 1n;
        break;
      case 'half_up':
        if (2n * r >= d) q += 1n;
        break;
      case 'half_even':
        if (2n * r > d || (2n * r === d && q % 2n === 1n)) q += 1n;
        break;
    }
  }
  return q * drop;
}
