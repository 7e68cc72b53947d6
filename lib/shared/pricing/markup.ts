import { atCardPrecision, money, type TCardRounding } from './money';
import { callPrice, type TRateTerms } from './billing';

/** How a derived card follows its parent: percent and/or fixed per minute on top. */
export interface TMarkup {
  /** "20" adds 20 %. */
  markupPercent?: string;
  /** Added per minute after the percent. */
  markupFixed?: string;
}

/**
 * A derived rate row from its parent's: the per-minute rate marked up and rounded the
 * child card's way; the connection fee, increments and grace are the parent's, so the
 * child never bills a shorter structure than it buys. A per-prefix override replaces
 * the marked-up rate (and is checked for margin like any row).
 */
export function deriveTerms(
  parent: TRateTerms,
  markup: TMarkup,
  card: TCardRounding,
  override?: string,
): TRateTerms {
  const base = money(parent.rate);
  const marked = base
    .times(money('1').plus(money(markup.markupPercent ?? '0').dividedBy(100)))
    .plus(money(markup.markupFixed ?? '0'));
  return {
    ...parent,
    rate: atCardPrecision(override !== undefined ? money(override) : marked, card),
    connectionFee: atCardPrecision(money(parent.connectionFee), card),
  };
}

/** Call lengths a margin check prices at both levels (short calls expose increments). */
export const SAMPLE_SECONDS = [1, 6, 30, 60, 180] as const;

export interface TMarginSample {
  seconds: number;
  buy: string;
  sell: string;
  margin: string;
}

/**
 * Prices typical calls at both levels (DESIGN §1): the whole billing structure, not
 * only the per-minute figure — selling 1/1 on a 60/60 buy loses money on short calls.
 * `losing` lists the samples where the sell price is below the buy price.
 */
export function marginCheck(
  buy: { terms: TRateTerms; card: TCardRounding },
  sell: { terms: TRateTerms; card: TCardRounding },
  samples: readonly number[] = SAMPLE_SECONDS,
): { samples: TMarginSample[]; losing: TMarginSample[] } {
  const priced = samples.map((seconds) => {
    const buyPrice = callPrice(buy.terms, seconds, buy.card);
    const sellPrice = callPrice(sell.terms, seconds, sell.card);
    return {
      seconds,
      buy: buyPrice,
      sell: sellPrice,
      margin: money(sellPrice).minus(money(buyPrice)).toFixed(),
    };
  });
  return { samples: priced, losing: priced.filter((sample) => money(sample.margin).isNegative()) };
}
