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
